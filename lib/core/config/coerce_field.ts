/**
 * A config value checked against its {@linkcode FieldSpec} and turned into
 * {@linkcode Config} units (milliseconds, bytes, percent).
 *
 * @module
 */

import type { FieldSpec } from "./config_schema.ts";
import { parsePercent, parseSize } from "./parse_size.ts";
import { parseDurationMs } from "../parse_duration.ts";

/** What {@linkcode coerceField} returns for a value that does not fit its field. */
export const INVALID: unique symbol = Symbol("invalid");

/** Whether `value` is a table (a TOML table, a JSON object). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Milliseconds in a duration value (`10`, `0.5`, `"500ms"`, `"1m30s"`), or `INVALID`. */
function _durationMs(value: unknown): number | typeof INVALID {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : INVALID;
  }
  if (typeof value !== "string") return INVALID;
  return parseDurationMs(value) ?? INVALID;
}

/**
 * `""` for an optional string key whose pattern does not accept it means "not set", as in the
 * Go wrapp (`password = ""`, `user = ""`). A required key stays an error.
 */
export function meansNotSet(field: FieldSpec, value: unknown): boolean {
  return value === "" && field.kind === "string" && !field.required && !field.pattern?.test("");
}

/** The value in Config units, or {@linkcode INVALID} when it does not fit the field (string tables are checked elsewhere). */
export function coerceField(field: FieldSpec, value: unknown): unknown {
  switch (field.kind) {
    case "string":
      // Empty only where the field's pattern says so.
      if (typeof value !== "string" || (value === "" && !field.pattern?.test(""))) {
        return INVALID;
      }
      if (field.singleLine && /[\r\n]/.test(value)) return INVALID;
      if (field.pattern && !field.pattern.test(value)) return INVALID;
      return value;
    case "boolean":
      return typeof value === "boolean" ? value : INVALID;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return INVALID;
      if (field.min !== undefined && value < field.min) return INVALID;
      if (field.max !== undefined && value > field.max) return INVALID;
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return INVALID;
      if (field.min !== undefined && value < field.min) return INVALID;
      if (field.max !== undefined && value > field.max) return INVALID;
      return value;
    case "duration": {
      const ms = _durationMs(value);
      if (ms === INVALID) return INVALID;
      if (field.min !== undefined && ms < field.min) return INVALID;
      if (field.max !== undefined && ms > field.max) return INVALID;
      return ms;
    }
    case "string_array":
      return Array.isArray(value) && value.every((item) => typeof item === "string")
        ? [...value]
        : INVALID;
    case "string_table":
      return isTable(value) ? { ...value } : INVALID;
    case "size":
    case "percent": {
      const number = field.kind === "size" ? parseSize(value) : parsePercent(value);
      if (number === undefined) return INVALID;
      if (field.min !== undefined && number < field.min) return INVALID;
      if (field.max !== undefined && number > field.max) return INVALID;
      return number;
    }
  }
}
