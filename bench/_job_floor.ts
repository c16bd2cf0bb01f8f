/**
 * Deno's floor for wrapp's job, as TypeScript source for `deno run`: what the runtime costs a
 * supervisor that does what wrapp must do for one service, and nothing of wrapp's own.
 * `deno run -A job_floor.ts PORT KEY OWNER_FILE PROGRAM [ARGS…]`:
 *
 * - opens the C calls of the crash watcher and of the delivery ledger through FFI, with
 *   wrapp's own `libc()` and `glibc()` (the same symbols, so the same first-use costs);
 * - connects to Redis on 127.0.0.1:PORT and PINGs it;
 * - writes OWNER_FILE, as the spool's owner file is written;
 * - starts PROGRAM with piped stdout and stderr, forwards SIGTERM, SIGINT and SIGHUP to it;
 * - XADDs each line of its stdout to KEY (database 0), reading the replies, and exits with
 *   its exit code.
 *
 * Beside the empty script's floor, it tells how much of a figure is the runtime's price for
 * those features (FFI, TCP, a child with pipes, a file write, signal handlers) and how much
 * is wrapp's.
 *
 * @module
 */

/** The floor's source, importing wrapp's FFI modules from the checkout at `root`. */
export function jobFloorTs(root: string): string {
  const lib = new URL("lib/", `file://${root.endsWith("/") ? root : `${root}/`}`).href;
  return `
import { libc } from "${lib}pipeline/bpf/native/libc.ts";
import { glibc } from "${lib}core/glibc.ts";
const [port, key, ownerFile, program, ...args] = Deno.args;
libc();
glibc();
const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const replies = new Uint8Array(65536);
const command = (words) =>
  encoder.encode(\`*\${words.length}\\r\\n\` + words.map((w) => \`$\${encoder.encode(w).length}\\r\\n\${w}\\r\\n\`).join(""));
/** Read until \`count\` newlines came (a PING reply has one, an XADD reply two); an error throws. */
async function readReplies(count) {
  for (let newlines = 0; newlines < count;) {
    const n = await conn.read(replies);
    if (n === null) throw new Error("Redis closed the connection");
    if (newlines === 0 && replies[0] === 45) throw new Error(decoder.decode(replies.subarray(0, n)));
    for (let i = 0; i < n; i++) if (replies[i] === 10) newlines++;
  }
}
await conn.write(command(["PING"]));
await readReplies(1);
await Deno.writeTextFile(ownerFile, \`\${Deno.pid}\\n\`);
const child = new Deno.Command(program, {
  args,
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  Deno.addSignalListener(signal, () => child.kill(signal));
}
const stderr = child.stderr.pipeTo(new WritableStream());
let rest = "";
for await (const chunk of child.stdout) {
  const lines = (rest + decoder.decode(chunk, { stream: true })).split("\\n");
  rest = lines.pop() ?? "";
  for (const line of lines) {
    await conn.write(command(["XADD", key, "*", "message", line]));
    await readReplies(2);
  }
}
await stderr;
Deno.exit((await child.status).code);
`;
}
