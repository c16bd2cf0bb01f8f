/**
 * How config errors put things: what a key must be ({@linkcode describeField}) and a
 * value as the user wrote it ({@linkcode showTomlValue}).
 *
 * @module
 */

import { TomlDate } from "smol-toml";
import type { FieldSpec } from "./config_schema.ts";
import { isTable } from "./coerce_field.ts";
import { formatSize } from "./parse_size.ts";

/** The "must be …" text for a key: `an integer between 256 and 16777216`. */
export function describeField(field: FieldSpec): string {
  switch (field.kind) {
    case "string":
      if (field.patternText) return field.patternText;
      return field.singleLine ? "a non-empty string without line breaks" : "a non-empty string";
    case "boolean":
      return "true or false";
    case "integer":
      if (field.min !== undefined && field.max !== undefined) {
        return `an integer between ${field.min} and ${field.max}`;
      }
      if (field.min !== undefined) return `an integer of at least ${field.min}`;
      return "an integer";
    case "number":
      if (field.min !== undefined && field.max !== undefined) {
        return `a number between ${field.min} and ${field.max}`;
      }
      if (field.min !== undefined) return `a number of at least ${field.min}`;
      return "a number";
    case "duration":
      return `a ${
        field.min ? "positive " : ""
      }duration (seconds, or a string such as "500ms", "10s" or "2m")`;
    case "string_array":
      return "an array of strings";
    case "string_table":
      return "a table of strings";
    case "size":
      return `a size such as "512M", "1G" or a number of bytes${
        field.min ? ` (at least ${formatSize(field.min)})` : ""
      }`;
    case "percent":
      return `a percentage such as "50%" (${field.min ?? 0}% to ${
        field.max ?? "any"
      }%; above 100% is more than one core)`;
  }
}

/** Render a TOML value the way error messages quote it: `"big"`, `42`, `[1, "a"]`, `{ a = 1 }`. */
export function showTomlValue(value: unknown): string {
  const text = _show(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function _show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (value instanceof TomlDate) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(_show).join(", ")}]`;
  if (isTable(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${_showKey(k)} = ${_show(v)}`);
    return entries.length ? `{ ${entries.join(", ")} }` : "{}";
  }
  return String(value);
}

function _showKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

/** `text` cut to 60 characters for a message. */
export function shortenForMessage(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
