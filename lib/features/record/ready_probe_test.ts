import assert from "node:assert/strict";
import { freeLoopbackPort } from "./free_port.ts";
import { commandProbe, tcpProbe, waitUntilReady } from "./ready_probe.ts";

Deno.test("tcpProbe() is ready once the reply matches, and says why not before", async () => {
  const port = freeLoopbackPort();
  const probe = tcpProbe(port, "PING\r\n", /^\+PONG/);
  assert.equal(await probe(), "connection refused");
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  let answer = "-LOADING\r\n";
  const serving = (async () => {
    for await (const connection of listener) {
      const buffer = new Uint8Array(64);
      await connection.read(buffer);
      await connection.write(new TextEncoder().encode(answer));
      connection.close();
    }
  })();
  try {
    assert.equal(await probe(), 'unexpected reply "-LOADING\\r\\n"');
    answer = "+PONG\r\n";
    await waitUntilReady(probe, { timeoutMs: 2000 });
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("waitUntilReady() gives up with the last reason", async () => {
  await assert.rejects(
    waitUntilReady(() => Promise.resolve("connection refused"), { timeoutMs: 60, intervalMs: 10 }),
    { message: "not ready after 0.06 s (connection refused)" },
  );
});

Deno.test("commandProbe() is ready when the command succeeds, else gives its last line", async () => {
  assert.equal(await commandProbe(["true"])(), true);
  assert.equal(
    await commandProbe(["sh", "-c", "echo one; echo 'no response' >&2; exit 2"])(),
    "no response",
  );
  assert.equal(await commandProbe(["false"])(), "exit code 1");
});
