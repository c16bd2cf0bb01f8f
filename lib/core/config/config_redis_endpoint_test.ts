import assert from "node:assert/strict";
import { loadConfig } from "./load_config.ts";
import { configRedisEndpoint } from "./config_redis_endpoint.ts";

Deno.test("configRedisEndpoint(): the server with its credentials, or the Sentinels and the master's name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-redis-endpoint-" });
  try {
    const plain = `${dir}/plain.toml`;
    await Deno.writeTextFile(
      plain,
      `[app]\nexecutable = "/bin/true"\n[redis]\nhost = "10.0.0.2"\nport = 6380\nusername = "u"\npassword = "p"\n`,
    );
    const config = await loadConfig(plain, { checkExecutable: false });
    assert.deepEqual(configRedisEndpoint(config.redis!), {
      host: "10.0.0.2",
      port: 6380,
      tls: false,
      username: "u",
      password: "p",
    });
    const sentinel = `${dir}/sentinel.toml`;
    await Deno.writeTextFile(
      sentinel,
      `[app]\nexecutable = "/bin/true"\n[redis]\nsentinels = ["10.0.0.3", "10.0.0.4:26380"]\nmaster_name = "mymaster"\nsentinel_password = "s"\n`,
    );
    const endpoint = configRedisEndpoint(
      (await loadConfig(sentinel, { checkExecutable: false })).redis!,
    );
    assert.deepEqual(endpoint.sentinels, ["10.0.0.3:26379", "10.0.0.4:26380"]);
    assert.equal(endpoint.masterName, "mymaster");
    assert.equal(endpoint.sentinelPassword, "s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
