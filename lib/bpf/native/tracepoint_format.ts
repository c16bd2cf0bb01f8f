/**
 * A kernel tracepoint's id and the layout of its record, read at run time from tracefs
 * (`events/<category>/<name>/{id,format}`), so a hand-assembled eBPF program finds its
 * fields on any kernel without headers or CO-RE: `sched_process_fork` puts `child_pid` at
 * offset 44 on 5.15 and at 20 on 6.18.
 *
 * @module
 */

/** One field of a tracepoint record. */
export interface TracepointField {
  /** Its C declaration without the name (`pid_t`, `char[16]`, `__data_loc char[]`). */
  type: string;
  /** Byte offset in the record (the common fields come first). */
  offset: number;
  /** Size in bytes. */
  size: number;
  /** Whether it is signed. */
  signed: boolean;
}

/** A tracepoint: its id (for `perf_event_open`) and its fields by name. */
export interface TracepointFormat {
  /** `category:name`, as in `sched:sched_process_exec`. */
  name: string;
  /** The id tracefs gives it. */
  id: number;
  /** The fields, by name. */
  fields: ReadonlyMap<string, TracepointField>;
}

/** Where tracefs is looked for, in order. */
export const TRACEFS_DIRS: readonly string[] = Object.freeze([
  "/sys/kernel/tracing",
  "/sys/kernel/debug/tracing",
]);

const _FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/**
 * Parse the text of a `format` file into its fields. Throws a `SyntaxError` when it has
 * none (not a format file).
 */
export function parseTracepointFields(text: string): Map<string, TracepointField> {
  const fields = new Map<string, TracepointField>();
  for (const line of text.split("\n")) {
    const match = _FIELD.exec(line);
    if (!match) continue;
    // "unsigned short common_type", "char comm[16]", "__data_loc char[] filename": the
    // name is the last word, less any array suffix, which stays with the type.
    const declaration = match[1].trim();
    const named = /^(.*?)\s*\b([A-Za-z_]\w*)(\[[^\]]*\])?$/.exec(declaration);
    if (!named) continue;
    const [, base, name, array] = named;
    fields.set(name, {
      type: `${base}${array ?? ""}`.trim(),
      offset: Number(match[2]),
      size: Number(match[3]),
      signed: match[4] === "1",
    });
  }
  if (fields.size === 0) throw new SyntaxError("No field in the tracepoint format");
  return fields;
}

/** Options for {@linkcode readTracepointFormat}. */
export interface ReadTracepointOptions {
  /** tracefs directories to try, in order. Default {@linkcode TRACEFS_DIRS}. */
  tracefs?: readonly string[];
}

/**
 * Read the id and format of `category:name` from the first tracefs that has it (small
 * files in memory: read synchronously, so a busy event loop does not delay the watcher).
 * Throws an `Error` naming the places looked in when none has it (tracefs not mounted, or
 * a kernel without the tracepoint).
 */
export function readTracepointFormat(
  tracepoint: string,
  options: ReadTracepointOptions = {},
): TracepointFormat {
  const [category, name] = tracepoint.split(":");
  if (!category || !name) throw new RangeError(`Invalid tracepoint "${tracepoint}"`);
  const tried: string[] = [];
  for (const dir of options.tracefs ?? TRACEFS_DIRS) {
    const base = `${dir}/events/${category}/${name}`;
    let idText: string, formatText: string;
    try {
      idText = Deno.readTextFileSync(`${base}/id`);
      formatText = Deno.readTextFileSync(`${base}/format`);
    } catch {
      tried.push(base);
      continue;
    }
    const id = Number(idText.trim());
    if (!Number.isSafeInteger(id)) throw new SyntaxError(`Invalid tracepoint id in "${base}/id"`);
    return { name: tracepoint, id, fields: parseTracepointFields(formatText) };
  }
  throw new Error(`Cannot read the tracepoint ${tracepoint}: none of ${tried.join(", ")}`);
}

/**
 * The offset of `field` in `format`, checking its size (4 for a pid or a signal number).
 * Throws an `Error` when the kernel's record lacks it or has another size.
 */
export function fieldOffset(format: TracepointFormat, field: string, size: number): number {
  const found = format.fields.get(field);
  if (!found) throw new Error(`The tracepoint ${format.name} has no field "${field}"`);
  if (found.size !== size) {
    throw new Error(
      `The field "${field}" of ${format.name} is ${found.size} bytes, not ${size}`,
    );
  }
  return found.offset;
}
