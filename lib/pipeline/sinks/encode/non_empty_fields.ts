/**
 * Stream entry fields without the unknown ones.
 *
 * @module
 */

/** `fields` without the ones unset or empty: a stream entry carries only what is known. */
export function nonEmptyFields(
  fields: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""),
  );
}
