/**
 * Every section of a config document checked against {@linkcode CONFIG_SCHEMA}: no unknown
 * section or key, every value of its kind and within its bounds, in {@linkcode Config}
 * units, defaults applied.
 *
 * @module
 */

import { didYouMean } from "../did_you_mean.ts";
import { CONFIG_SCHEMA, fieldProperty, type SectionName } from "./config_schema.ts";
import { coerceField, INVALID, isTable, meansNotSet } from "./coerce_field.ts";
import { describeField } from "./describe_field.ts";
import type { ConfigSource } from "./config_source.ts";

/** One section's values by {@linkcode Config} property. */
export type SectionValues = Record<string, unknown>;

/** The sections that are absent from a config that leaves them out. */
export type OptionalSection = "redis" | "debug" | "watchdog" | "limits";

/** Every section's values; the optional ones only when the document has them. */
export type CheckedSections =
  & Record<Exclude<SectionName, OptionalSection>, SectionValues>
  & Partial<Record<OptionalSection, SectionValues>>;

/** Check every section of `document` against the schema; the values are in Config units, defaults applied. */
export function checkSections(
  source: ConfigSource,
  document: Record<string, unknown>,
): CheckedSections {
  const names = Object.keys(CONFIG_SCHEMA) as SectionName[];
  const found: Partial<Record<SectionName, SectionValues>> = {};
  for (const [name, value] of Object.entries(document)) {
    if (source.isComment(name)) continue;
    if (!Object.hasOwn(CONFIG_SCHEMA, name)) {
      if (isTable(value)) {
        const suggestion = didYouMean(name, names);
        throw source.error(
          `unknown section [${name}]${suggestion ? ` (did you mean [${suggestion}]?)` : ""}`,
          [name],
        );
      }
      const home = names.find((section) => Object.hasOwn(CONFIG_SCHEMA[section].fields, name));
      throw source.error(
        home
          ? `unknown top-level key "${name}" (did you mean to put it in [${home}]?)`
          : `unknown top-level key "${name}": every key belongs in a section such as [app]`,
        [name],
      );
    }
    const section = name as SectionName;
    if (value === null) continue; // JSON null: not set
    if (!isTable(value)) {
      const table = source.format === "json" ? "an object" : "a table";
      throw source.error(`[${section}] must be ${table}, got ${source.show(value)}`, [section]);
    }
    found[section] = _checkSection(source, section, value);
  }
  for (const section of names) {
    if (found[section]) continue;
    const spec = CONFIG_SCHEMA[section];
    if (spec.required) throw source.error(`missing required section [${section}]`);
    if (!spec.optional) found[section] = _checkSection(source, section, {});
  }
  return found as CheckedSections;
}

function _checkSection(
  source: ConfigSource,
  section: SectionName,
  table: Record<string, unknown>,
): SectionValues {
  const fields = CONFIG_SCHEMA[section].fields;
  const values: SectionValues = {};
  for (const [key, value] of Object.entries(table)) {
    if (source.isComment(key)) continue;
    if (!Object.hasOwn(fields, key)) {
      const suggestion = didYouMean(key, Object.keys(fields));
      throw source.error(
        `unknown key "${key}" in [${section}]${
          suggestion ? ` (did you mean "${suggestion}"?)` : ""
        }`,
        [section, key],
      );
    }
    const field = fields[key];
    if (value === null || meansNotSet(field, value)) continue;
    const coerced = coerceField(field, value);
    if (coerced === INVALID) {
      throw source.error(
        `"${key}" in [${section}] must be ${describeField(field)}, got ${source.show(value)}`,
        [section, key],
      );
    }
    if (field.kind === "string_table") {
      _checkStringTable(source, section, key, coerced as SectionValues);
    }
    values[fieldProperty(key, field)] = coerced;
  }
  for (const [key, field] of Object.entries(fields)) {
    const property = fieldProperty(key, field);
    if (Object.hasOwn(values, property)) continue;
    if (field.required) throw source.error(`missing required key "${key}" in [${section}]`);
    if (field.default !== undefined) values[property] = structuredClone(field.default);
  }
  return values;
}

function _checkStringTable(
  source: ConfigSource,
  section: string,
  key: string,
  table: SectionValues,
): void {
  for (const [name, value] of Object.entries(table)) {
    const path = [section, key, name];
    if (typeof value !== "string") {
      throw source.error(
        `"${name}" in [${section}.${key}] must be a string, got ${source.show(value)}`,
        path,
      );
    }
    if (name === "" || /[=\0]/.test(name)) {
      throw source.error(
        `"${name}" in [${section}.${key}] is not a valid environment variable name`,
        path,
      );
    }
    if (value.includes("\0")) {
      // No program can receive it: the service would not start (exit 127).
      throw source.error(
        `"${name}" in [${section}.${key}] must not contain a NUL character`,
        path,
      );
    }
  }
}
