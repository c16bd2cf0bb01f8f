import assert from "node:assert/strict";
import {
  describeConnectFailure,
  describeEndpoint,
  describeRedisError,
  redisConnectOptions,
} from "./redis_connection.ts";

const SENTINELS = {
  host: "127.0.0.1",
  port: 6379,
  sentinels: ["10.0.0.2:26379", "[fd00::3]:26380"],
  masterName: "robots",
};

Deno.test("redisConnectOptions() gives the master's credentials to the master and the Sentinels' to the Sentinels", () => {
  const options = redisConnectOptions({
    ...SENTINELS,
    tls: true,
    username: "app",
    password: "master-pw",
    sentinelPassword: "sentinel-pw",
  });
  assert.deepEqual(options.sentinels, [{ host: "10.0.0.2", port: 26379 }, {
    host: "fd00::3",
    port: 26380,
  }]);
  assert.equal(options.masterName, "robots");
  assert.equal(options.username, "app");
  assert.equal(options.password, "master-pw");
  assert.equal(options.sentinelPassword, "sentinel-pw");
  assert.equal(options.sentinelUsername, undefined);
  // tls applies to the Sentinels and the master alike.
  assert.equal(options.tls, true);
});

Deno.test("redisConnectOptions() without Sentinels is the server itself", () => {
  assert.deepEqual(redisConnectOptions({ host: "10.0.0.2", port: 6380 }), {
    host: "10.0.0.2",
    port: 6380,
    username: undefined,
    password: undefined,
    tls: undefined,
  });
});

Deno.test("describeEndpoint() names the server, or the master and its Sentinels", () => {
  assert.equal(describeEndpoint({ host: "::1", port: 6379 }), '"[::1]:6379"');
  assert.equal(
    describeEndpoint(SENTINELS),
    'master "robots" via Sentinel "10.0.0.2:26379", "[fd00::3]:26380"',
  );
});

Deno.test("describeConnectFailure() says whether the Sentinels or the master could not be reached", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:6379"), {
    code: "ECONNREFUSED",
    address: "10.0.0.9",
    port: 6379,
  });
  assert.equal(
    describeConnectFailure({ host: "10.0.0.9", port: 6379 }, refused),
    'Cannot connect to Redis at "10.0.0.9:6379": connection refused',
  );
  assert.equal(
    describeConnectFailure(SENTINELS, refused),
    'Cannot connect to Redis master "robots" at "10.0.0.9:6379" (named by the Sentinels): connection refused',
  );
  const unreachable = new Error(
    "All sentinels are unreachable. Retrying from scratch after 100ms. Last error: connect ECONNREFUSED 10.0.0.2:26379",
  );
  assert.equal(
    describeConnectFailure(SENTINELS, unreachable),
    'Cannot connect to Redis Sentinel at "10.0.0.2:26379", "[fd00::3]:26380": connection refused',
  );
  assert.equal(describeRedisError(unreachable), "no Redis Sentinel answers (connection refused)");
  const unknown = new Error(
    "All sentinels are unreachable. Retrying from scratch after 100ms. Last error: ERR No such master with that name",
  );
  assert.equal(
    describeConnectFailure(SENTINELS, unknown),
    'Cannot connect to Redis master "robots": no Redis Sentinel at "10.0.0.2:26379", "[fd00::3]:26380" knows it (see "sentinel monitor" in their configuration)',
  );
  assert.equal(describeRedisError(unknown), "no Redis Sentinel knows the master");
  const wrongPassword = new Error(
    "All sentinels are unreachable. Retrying from scratch after 10ms. Last error: WRONGPASS invalid username-password pair",
  );
  assert.equal(
    describeConnectFailure(SENTINELS, wrongPassword),
    'Cannot connect to Redis Sentinel at "10.0.0.2:26379", "[fd00::3]:26380": wrong username or password (WRONGPASS)',
  );
});
