import assert from "node:assert/strict";
import { freeLoopbackPort } from "./free_port.ts";

Deno.test("freeLoopbackPort() returns a port a server can bind at once", () => {
  const port = freeLoopbackPort();
  assert.ok(port > 0 && port < 65536);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});
