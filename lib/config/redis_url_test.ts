import assert from "node:assert/strict";
import { parseRedisUrl, redisUrlProblem } from "./redis_url.ts";

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
