/**
 * Trace ids: the names clients give a trace with `OPEN <trace-id>`, which become file
 * names `<dir>/<trace-id>.jsonl`.
 *
 * tldrs pastes the id into a path unchecked, so `OPEN ../x` writes outside its folder.
 * Here an id must be a plain file-name component: no `/`, `\`, NUL or other control
 * character, not starting with `.` (which also rules out `.` and `..`) or `-` (it would
 * read as an option on a command line), and at most {@linkcode TRACE_ID_MAX_BYTES} bytes
 * of UTF-8 so `<id>.jsonl` fits the 255-byte file-name limit. Anything else — letters of
 * any script, digits, spaces, `_-+.:@=,` — is accepted, which covers the ids real clients
 * send (`tr-1718000000-0123…abcdef` from the OCaml `trace` library).
 *
 * @module
 */

/** Longest trace id, in bytes of UTF-8. */
export const TRACE_ID_MAX_BYTES = 200;

/** Suffix of the file a trace is recorded into. */
export const TRACE_FILE_SUFFIX = ".jsonl";

const _encoder = new TextEncoder();

/**
 * Why `id` cannot be a trace id, as the detail of a message (`it contains "/"`), or
 * `undefined` when it is acceptable.
 *
 * ```ts
 * traceIdProblem("tr-1718000000-0123abcd"); // undefined
 * traceIdProblem("../x"); // 'it starts with "."'
 * ```
 */
export function traceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "it is empty";
  if (id.startsWith(".")) return 'it starts with "." (no hidden files, "." or "..")';
  if (id.startsWith("-")) return 'it starts with "-"';
  for (const char of id) {
    if (char === "/") return 'it contains "/"';
    if (char === "\\") return 'it contains "\\"';
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      return `it contains the control character U+${
        code.toString(16).toUpperCase().padStart(4, "0")
      }`;
    }
    if (code >= 0xd800 && code <= 0xdfff) return "it contains a lone UTF-16 surrogate";
  }
  const bytes = _encoder.encode(id).length;
  if (bytes > TRACE_ID_MAX_BYTES) {
    return `it is ${bytes} bytes long, more than ${TRACE_ID_MAX_BYTES}`;
  }
  return undefined;
}

/** `"trace id "x""` quoting for messages: JSON string syntax, so control characters show as escapes. */
export function quoteTraceId(id: string): string {
  return JSON.stringify(id);
}

/** The file name a valid trace id is recorded into: `<id>.jsonl`. */
export function traceFileName(id: string): string {
  return `${id}${TRACE_FILE_SUFFIX}`;
}
