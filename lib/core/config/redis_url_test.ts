import assert from "node:assert/strict";
import { parseHostPort, parseRedisUrl, redisUrlProblem } from "./redis_url.ts";

Deno.test("parseRedisUrl() reads host, port, TLS and percent-decoded credentials", () => {
  assert.deepEqual(parseRedisUrl("redis://app:p%25w%40rd@10.0.0.2:7000"), {
    host: "10.0.0.2",
    port: 7000,
    tls: false,
    username: "app",
    password: "p%w@rd",
  });
  assert.deepEqual(parseRedisUrl("rediss://[::1]"), { host: "::1", port: 6379, tls: true });
  assert.equal(redisUrlProblem("redis://127.0.0.1:6379"), undefined);
});

Deno.test("redisUrlProblem() says precisely what is wrong, without quoting the password", () => {
  const cases: [string, string][] = [
    ["redis://:%E0%A4%A@127.0.0.1:1", 'the password has an invalid %-escape (write "%" as "%25")'],
    ["redis://us%ZZer:pw@127.0.0.1", 'the user name has an invalid %-escape (write "%" as "%25")'],
    ["redis://127.0.0.1:0", "port 0 is not a valid port (1 to 65535)"],
    ["redis://:secret@127.0.0.1:70000", "port 70000 is not a valid port (1 to 65535)"],
    [
      "http://127.0.0.1:6379",
      "not a Redis URL; expected redis://[user:password@]host[:port] or rediss://…",
    ],
    ["redis://a b", "not a valid URL; expected redis://[user:password@]host[:port] or rediss://…"],
  ];
  for (const [url, problem] of cases) {
    assert.equal(parseRedisUrl(url), undefined, url);
    assert.equal(redisUrlProblem(url), problem, url);
  }
  assert.doesNotMatch(redisUrlProblem("redis://:s3cret%@h")!, /s3cret/);
});

Deno.test("parseHostPort() reads host:port, a bare host, and IPv6 with or without brackets", () => {
  assert.deepEqual(parseHostPort("10.0.0.2:26380", 26379), { host: "10.0.0.2", port: 26380 });
  assert.deepEqual(parseHostPort("sentinel-a", 26379), { host: "sentinel-a", port: 26379 });
  assert.deepEqual(parseHostPort("[::1]:26380", 26379), { host: "::1", port: 26380 });
  assert.deepEqual(parseHostPort("[::1]", 26379), { host: "::1", port: 26379 });
  assert.deepEqual(parseHostPort("fd00::4", 26379), { host: "fd00::4", port: 26379 });
});

Deno.test("parseHostPort() says why an address is unusable", () => {
  assert.equal(parseHostPort("", 1), '"" is not a host; expected "host:port"');
  assert.equal(parseHostPort(":26379", 1), '":26379" is not a host; expected "host:port"');
  assert.equal(
    parseHostPort("a:b", 1),
    '"a:b" has no valid port (1 to 65535); expected "host:port"',
  );
  assert.equal(
    parseHostPort("a:65536", 1),
    '"a:65536" has no valid port (1 to 65535); expected "host:port"',
  );
  assert.equal(
    parseHostPort("redis://a:1", 1),
    '"redis://a:1" is not a host; expected "host:port"',
  );
});
