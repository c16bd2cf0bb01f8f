/**
 * Deno's floor for wrapp's job, as TypeScript source for `deno run`: what the runtime costs a
 * supervisor that does what wrapp must do for one service, and nothing of wrapp's own.
 * `deno run -A job_floor.ts PORT KEY OWNER_FILE PROGRAM [ARGS…]`:
 *
 * - opens the C calls of the crash watcher and of the delivery ledger through FFI, with
 *   wrapp's own `libc()` and `glibc()` (the same symbols, so the same first-use costs);
 * - connects to Redis on 127.0.0.1:PORT and waits for one reply (`ECHO`);
 * - writes OWNER_FILE, as the spool's owner file is written;
 * - starts PROGRAM with piped stdout and stderr, forwards SIGTERM, SIGINT and SIGHUP to it;
 * - XADDs each line of its stdout to KEY (database 0), reading each reply, and exits with
 *   its exit code. The RESP is `_resp.ts`'s, as the other Redis benchmarks write it.
 *
 * Beside the empty script's floor, it tells how much of a figure is the runtime's price for
 * those features (FFI, TCP, a child with pipes, a file write, signal handlers) and how much
 * is wrapp's.
 *
 * @module
 */

/** The floor's source, importing wrapp's FFI modules from the checkout at `root`. */
export function jobFloorTs(root: string): string {
  const base = `file://${root.endsWith("/") ? root : `${root}/`}`;
  const lib = new URL("lib/", base).href;
  return `
import { libc } from "${lib}pipeline/bpf/native/libc.ts";
import { glibc } from "${lib}core/glibc.ts";
import { sendBulkPipeline } from "${new URL("bench/_resp.ts", base).href}";
const [port, key, ownerFile, program, ...args] = Deno.args;
libc();
glibc();
const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
const replies = new Uint8Array(65536);
// One round trip before anything starts, as wrapp's handshake (ECHO: a bulk-string reply).
await sendBulkPipeline(conn, [["ECHO", "ready"]], replies);
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
const decoder = new TextDecoder();
let rest = "";
for await (const chunk of child.stdout) {
  const lines = (rest + decoder.decode(chunk, { stream: true })).split("\\n");
  rest = lines.pop() ?? "";
  for (const line of lines) await sendBulkPipeline(conn, [["XADD", key, "*", "message", line]], replies);
}
await stderr;
Deno.exit((await child.status).code);
`;
}
