/**
 * A hand-written RESP pipeline for the Redis benchmarks: what a sink writing bytes itself
 * (rather than through ioredis) could reach. Not used by wrapp.
 */

const _encoder = new TextEncoder();
const _ascii = /^[ -~]*$/; // printable ASCII: one byte per character

/**
 * Write `commands` on `conn` as one pipeline and wait for their replies, each a bulk
 * string (`$<len>\r\n<value>\r\n`, as XADD answers); throws on an error reply.
 */
export async function sendBulkPipeline(
  conn: Deno.Conn,
  commands: readonly (readonly string[])[],
  buffer: Uint8Array,
): Promise<void> {
  const parts: string[] = [];
  for (const args of commands) {
    parts.push(`*${args.length}\r\n`);
    for (const arg of args) {
      const size = _ascii.test(arg) ? arg.length : _encoder.encode(arg).length;
      parts.push(`$${size}\r\n`, arg, "\r\n");
    }
  }
  const bytes = _encoder.encode(parts.join(""));
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
  // Two newlines per bulk-string reply.
  let lines = 0;
  while (lines < 2 * commands.length) {
    const got = await conn.read(buffer);
    if (got === null) throw new Error("connection closed");
    if (buffer[0] === 45 /* - */) {
      throw new Error(new TextDecoder().decode(buffer.subarray(0, got)));
    }
    for (let k = buffer.indexOf(10); k >= 0 && k < got; k = buffer.indexOf(10, k + 1)) lines++;
  }
}
