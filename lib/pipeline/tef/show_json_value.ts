/**
 * A value as a violation message quotes it.
 *
 * @module
 */

/** A value as it would appear in JSON (`"12"`, `-1`, `null`), shortened to 60 characters. */
export function showJsonValue(value: unknown): string {
  let text: string;
  if (typeof value === "number") text = String(value); // JSON.stringify(NaN) would say null
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
