/**
 * A stand-in Redis server for unit tests of the RESP client and the sink: it answers what
 * a test tells it to, so replies real Redis gives only in rare moments (a data set still
 * loading, a reply cut off) can be played on demand.
 *
 * @module
 */

/**
 * A stand-in Redis server on a free port: records each command it receives (as its
 * arguments) and answers with `answer(args)`, raw RESP; `null` answers nothing.
 */
export function fakeRedisServer(answer: (args: string[]) => string | null) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const commands: string[][] = [];
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      void (async () => {
        const decoder = new TextDecoder();
        let text = "";
        const chunk = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await conn.read(chunk);
            if (n === null) return;
            text += decoder.decode(chunk.subarray(0, n), { stream: true });
            for (;;) {
              const parsed = _parseCommand(text);
              if (!parsed) break;
              text = text.slice(parsed.used);
              commands.push(parsed.args);
              const reply = answer(parsed.args);
              if (reply !== null) await conn.write(new TextEncoder().encode(reply));
            }
          }
        } catch {
          // closed by the test
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    commands,
    /** Drop every open connection, as a restarted server would. */
    dropAll() {
      for (const conn of conns.splice(0)) conn.close();
    },
    async close() {
      listener.close();
      this.dropAll();
      await serving;
    },
  };
}

/** One `*n $len arg …` command from the start of `text` (lengths in characters: ASCII tests only). */
function _parseCommand(text: string): { args: string[]; used: number } | undefined {
  let at = 0;
  const line = () => {
    const end = text.indexOf("\r\n", at);
    if (end < 0) return undefined;
    const value = text.slice(at, end);
    at = end + 2;
    return value;
  };
  const head = line();
  if (head === undefined) return undefined;
  const count = Number(head.slice(1));
  const args: string[] = [];
  for (let k = 0; k < count; k++) {
    const length = line();
    if (length === undefined) return undefined;
    const size = Number(length.slice(1));
    if (text.length < at + size + 2) return undefined;
    args.push(text.slice(at, at + size));
    at += size + 2;
  }
  return { args, used: at };
}
