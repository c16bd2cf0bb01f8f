import assert from "node:assert/strict";
import {
  curlResults,
  NGINX_PAGE_BYTES,
  NGINX_WORKLOAD,
  nginxConfig,
  nginxPage,
  wrkResults,
} from "./nginx_workload.ts";

Deno.test("nginxConfig() keeps nginx in the foreground and inside its folder", () => {
  const config = nginxConfig("/tmp/w", 8123);
  assert.match(config, /^daemon off;$/m);
  assert.match(config, /^\s+listen 127\.0\.0\.1:8123;$/m);
  assert.match(config, /^\s+root \/tmp\/w\/www;$/m);
  assert.match(config, /^pid \/tmp\/w\/nginx\.pid;$/m);
  assert.match(config, /^error_log stderr notice;$/m);
  // Every path it may write is in the folder.
  for (const match of config.matchAll(/_temp_path (\S+);/g)) assert.match(match[1], /^\/tmp\/w\//);
});

Deno.test("nginxPage() is exactly the size asked for", () => {
  assert.equal(new TextEncoder().encode(nginxPage(NGINX_PAGE_BYTES)).length, NGINX_PAGE_BYTES);
  assert.equal(nginxPage(1000).length, 1000);
});

Deno.test("the nginx plan writes its config and page, and prefers wrk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-nginx-" });
  try {
    const context = {
      workDir: dir,
      port: 8123,
      durationMs: 2400,
      programs: { nginx: "/x/nginx", wrk: "/x/wrk" },
    };
    const plan = await NGINX_WORKLOAD.plan(context);
    assert.deepEqual(plan.app.command, [
      "/x/nginx",
      "-e",
      "stderr",
      "-p",
      dir,
      "-c",
      `${dir}/nginx.conf`,
    ]);
    assert.equal(plan.app.stopSignal, "SIGQUIT");
    assert.equal((await Deno.stat(`${dir}/www/index.html`)).size, NGINX_PAGE_BYTES);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o755, "the workers (nobody) can enter");
    assert.deepEqual(plan.load?.command, [
      "/x/wrk",
      "-t2",
      "-c16",
      "-d2s",
      "--latency",
      "http://127.0.0.1:8123/index.html",
    ]);
    assert.equal(plan.load?.stopsItself, true);
    const curl = await NGINX_WORKLOAD.plan({
      ...context,
      workDir: await Deno.makeTempDir({ dir }),
      programs: { nginx: "/x/nginx", curl: "/x/curl" },
    });
    assert.equal(curl.load?.command[0], "/x/curl");
    assert.equal(curl.load?.stopsItself, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wrkResults() keeps the counts, rates and percentiles", () => {
  const output = `Running 2s test @ http://127.0.0.1:18080/index.html
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   441.93us    0.97ms  14.62ms   91.73%
    Req/Sec    46.35k     7.17k   75.10k    78.05%
  Latency Distribution
     50%   82.00us
     75%  377.00us
     90%    1.21ms
     99%    4.65ms
  188988 requests in 2.10s, 3.94GB read
Requests/sec:  90000.59
Transfer/sec:      1.88GB
`;
  assert.deepEqual(wrkResults(output), [
    "188988 requests in 2.10s, 3.94GB read",
    "90001 requests/s, 1.88GB/s",
    "latency p50 82.00us, p90 1.21ms, p99 4.65ms",
  ]);
});

Deno.test("curlResults() counts the answers by status", () => {
  assert.deepEqual(curlResults("200\n200\n404\n200\n"), [
    "4 requests, one at a time with curl (3 × 200, 1 × 404); install wrk for a heavier load",
  ]);
  assert.deepEqual(curlResults(""), []);
});
