import assert from "node:assert/strict";
import type { RespClient } from "./resp_client.ts";
import { RedisPool } from "./redis_pool.ts";

/** A stand-in for a RespClient: records quit and disconnect. */
function fakeClient(calls: string[], name: string): RespClient {
  return {
    status: "ready",
    on: () => {},
    quit: () => {
      calls.push(`quit ${name}`);
      return Promise.resolve("OK");
    },
    disconnect: () => calls.push(`disconnect ${name}`),
  } as unknown as RespClient;
}

Deno.test("RedisPool hands out one connection per server, user and database, closed after its last holder", async () => {
  const calls: string[] = [];
  const pool = new RedisPool();
  const key = { host: "127.0.0.1", port: 6379, db: 1 };
  const first = pool.acquire(key, () => fakeClient(calls, "db1"));
  const again = pool.acquire({ ...key }, () => assert.fail("not created twice"));
  assert.equal(again, first);
  const otherDb = pool.acquire({ ...key, db: 2 }, () => fakeClient(calls, "db2"));
  const otherUser = pool.acquire({ ...key, username: "cam" }, () => fakeClient(calls, "cam"));
  assert.notEqual(otherDb, first);
  assert.notEqual(otherUser, first);
  assert.equal(pool.size, 3);

  await pool.release(first);
  assert.deepEqual(calls, [], "one holder left");
  await pool.release(again);
  assert.deepEqual(calls, ["disconnect db1"], "closed without a QUIT round trip");
  await pool.release(otherDb);
  await pool.release(otherUser);
  assert.equal(pool.size, 0);
  await pool.release(first); // not held any more: nothing happens
  assert.deepEqual(calls, ["disconnect db1", "disconnect db2", "disconnect cam"]);
});
