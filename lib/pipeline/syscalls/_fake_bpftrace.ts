/**
 * Test helper: a bash script that stands in for bpftrace and prints given lines.
 *
 * @module
 */

/** A bash stand-in for bpftrace that prints `first`, then `last` on SIGINT (or ignores SIGINT). */
export async function fakeBpftrace(first: string[], last: string[] | "ignore SIGINT") {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-fake-tracer-" });
  const path = `${dir}/bpftrace`;
  await Deno.writeTextFile(path, '#!/bin/bash\nshift 2\nprog=$1\nshift\nsource "$prog"\n', {
    mode: 0o755,
  });
  const heredoc = (lines: string[]) => `cat <<'WRAPP_EOF'\n${lines.join("\n")}\nWRAPP_EOF\n`;
  const trap = last === "ignore SIGINT"
    ? "trap '' INT\n"
    : `trap '${heredoc(last).replaceAll("'", "'\\''")} exit 0' INT\n`;
  const text = trap +
    `echo "params $*" >&2\n${heredoc(first)}while true; do sleep 0.02; done\n`;
  return {
    path,
    program: { name: "syscalls.bt", text, tracepoints: [] },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A bpftrace `printf` message carrying `text` and a newline. */
export const printf = (text: string) => JSON.stringify({ type: "printf", data: `${text}\n` });
