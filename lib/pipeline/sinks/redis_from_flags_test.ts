import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { type RedisEndpointFlagValues, redisEndpointFromFlags } from "./redis_from_flags.ts";

const NO_ENV = () => undefined;

async function usageError(values: RedisEndpointFlagValues): Promise<string> {
  try {
    await redisEndpointFromFlags(values, { env: NO_ENV });
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${error}`);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail("expected a UsageError");
}

Deno.test("redisEndpointFromFlags() reads --sentinel (repeated or comma-separated) and --master-name", async () => {
  const endpoint = await redisEndpointFromFlags(
    {
      sentinel: ["10.0.0.2:26380,10.0.0.3", "[::1]:26379", "10.0.0.2:26380"],
      "master-name": "robots",
      tls: true,
    },
    { env: (name) => name === "WRAPP_REDIS_PASSWORD" ? "from-env" : undefined },
  );
  assert.deepEqual(endpoint, {
    host: "127.0.0.1",
    port: 6379,
    sentinels: ["10.0.0.2:26380", "10.0.0.3:26379", "[::1]:26379"],
    masterName: "robots",
    tls: true,
    password: "from-env",
  });
});

Deno.test("redisEndpointFromFlags() keeps a config's Sentinels, or drops them for --host", async () => {
  const base = {
    host: "127.0.0.1",
    port: 6379,
    sentinels: ["10.0.0.2:26379"],
    masterName: "robots",
    sentinelPassword: "s",
  };
  assert.deepEqual(await redisEndpointFromFlags({ "master-name": "arms" }, { base, env: NO_ENV }), {
    ...base,
    masterName: "arms",
  });
  assert.deepEqual(await redisEndpointFromFlags({ host: "10.0.0.9" }, { base, env: NO_ENV }), {
    host: "10.0.0.9",
    port: 6379,
  });
  assert.deepEqual(
    await redisEndpointFromFlags({ url: "rediss://u:p@10.0.0.5:7000" }, { base, env: NO_ENV }),
    { host: "10.0.0.5", port: 7000, tls: true, username: "u", password: "p" },
  );
});

Deno.test("redisEndpointFromFlags() says what is wrong with the Sentinel flags", async () => {
  assert.equal(
    await usageError({ sentinel: ["127.0.0.1:26379"] }),
    "--sentinel needs --master-name: the name the Sentinels monitor the master under",
  );
  assert.equal(
    await usageError({ "master-name": "m" }),
    "--master-name needs --sentinel: the Sentinels that know the master",
  );
  assert.equal(
    await usageError({ sentinel: ["127.0.0.1:0"], "master-name": "m" }),
    'Invalid --sentinel: "127.0.0.1:0" has no valid port (1 to 65535); expected "host:port"',
  );
  assert.equal(
    await usageError({ sentinel: ["127.0.0.1"], "master-name": "m", port: "6380" }),
    "--port and --sentinel both name the Redis server: keep one (the Sentinels name the master)",
  );
  assert.equal(
    await usageError({ url: "redis://:%E0%A4%A@h" }),
    'Invalid --url: the password has an invalid %-escape (write "%" as "%25")',
  );
  assert.equal(
    await usageError({ port: "70000" }),
    '--port must be an integer between 1 and 65535, got "70000"',
  );
});
