/**
 * Deno's floor for a service's lines, as TypeScript source for `deno run`: the least a Deno
 * supervisor does per line, and nothing else. `deno run -A floor.ts PORT KEY PROGRAM [ARGS…]`
 * starts PROGRAM (the paced printer of `_paced_printer.ts`, or `seq`), and for every read of
 * its stdout sends one XADD per complete line to KEY on 127.0.0.1:PORT (database 0) and reads
 * the replies before reading again. No spool, ledger, trace, restart policy or crash watcher:
 * what wrapp costs above this is wrapp's own.
 *
 * @module
 */

/** The floor's source; write it to a file and run it with `deno run -A`. */
export const LINES_FLOOR_TS = `
const [port, key, program, ...args] = Deno.args;
const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
const child = new Deno.Command(program, {
  args,
  stdin: "null",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const replies = new Uint8Array(65536);
const head = \`*5\\r\\n$4\\r\\nXADD\\r\\n$\${encoder.encode(key).length}\\r\\n\${key}\\r\\n$1\\r\\n*\\r\\n$7\\r\\nmessage\\r\\n\`;
let rest = "";
let lineStart = true; // the last read of replies ended a line
for await (const chunk of child.stdout) {
  const lines = (rest + decoder.decode(chunk, { stream: true })).split("\\n");
  rest = lines.pop() ?? "";
  if (lines.length === 0) continue;
  let command = "";
  for (const line of lines) command += \`\${head}$\${encoder.encode(line).length}\\r\\n\${line}\\r\\n\`;
  const bytes = encoder.encode(command);
  for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
  // Each reply is a bulk string, "$<n>\\r\\n<id>\\r\\n": two newlines; an error is one line,
  // "-…", where a reply starts (a read may also start inside an id, "…-42").
  let newlines = 0;
  while (newlines < 2 * lines.length) {
    const n = await conn.read(replies);
    if (n === null) throw new Error("Redis closed the connection");
    for (let i = 0; i < n; i++) {
      const atReply = newlines % 2 === 0 && (i === 0 ? lineStart : replies[i - 1] === 10);
      if (atReply && replies[i] === 45) throw new Error(decoder.decode(replies.subarray(i, n)));
      if (replies[i] === 10) newlines++;
    }
    lineStart = replies[n - 1] === 10;
  }
}
Deno.exit((await child.status).code);
`;
