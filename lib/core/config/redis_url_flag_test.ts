import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { redisUrlFlag } from "./redis_url_flag.ts";

Deno.test("redisUrlFlag(): the URL's endpoint, the password from the environment when it has none", () => {
  const env = (name: string) => name === "WRAPP_REDIS_PASSWORD" ? "from-env" : undefined;
  const plain = redisUrlFlag("redis://10.0.0.2:6380", env);
  assert.equal(plain.host, "10.0.0.2");
  assert.equal(plain.port, 6380);
  assert.equal(plain.password, "from-env");
  assert.equal(redisUrlFlag("redis://:own@10.0.0.2:6380", env).password, "own");
  assert.equal(redisUrlFlag("redis://10.0.0.2", () => "").password, undefined);
  assert.throws(
    () => redisUrlFlag("http://user:hunter2@x", env),
    (e) =>
      e instanceof UsageError && /^Invalid --redis: /.test(e.message) &&
      !e.message.includes("hunter2"),
  );
});
