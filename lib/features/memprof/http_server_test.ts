import assert from "node:assert/strict";
import { type MemprofSource, parseListen, serveMemprof } from "./http_server.ts";
import { buildCallTree } from "./call_tree.ts";
import { foldedStacks } from "./folded.ts";
import { toTezedgeTree } from "./tezedge_json.ts";
import { STACKS } from "./_test_stacks.ts";

const SOURCE: MemprofSource = {
  pid: 4242,
  tree: ({ reverse, threshold }) =>
    toTezedgeTree(buildCallTree(STACKS, { reverse }), { threshold }),
  short: () => ({ total: 90212, cache: 8192, anon: 82020, systemReportAnon: 83000 }),
  status: () => ({ pid: 4242, state: "running" }),
  folded: () => foldedStacks(STACKS),
};

async function withServer(
  fn: (url: string) => Promise<void>,
  options: { allowOrigin?: string } = {},
): Promise<void> {
  const server = serveMemprof(SOURCE, { port: 0, ...options });
  try {
    await fn(server.url);
  } finally {
    await server.shutdown();
  }
}

Deno.test("serveMemprof() answers TezEdge's /v1/tree and /v1/pid on 127.0.0.1", async () => {
  await withServer(async (url) => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(`${url}v1/tree?reverse=true&threshold=10000`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    const tree = await response.json();
    assert.equal(tree.value, 90212);
    assert.deepEqual(
      tree.frames.map((f: { functionName?: string; name: unknown }) => f.functionName ?? f.name),
      ["alloc_a", "alloc_b", "underThreshold"],
    );
    const defaults = await (await fetch(`${url}v1/tree`)).json();
    assert.equal(defaults.frames[0].functionName, "__libc_start_main"); // top-down, threshold 256
    assert.deepEqual(await (await fetch(`${url}v1/tree?short=true`)).json(), SOURCE.short());
    assert.equal(await (await fetch(`${url}v1/pid`)).json(), 4242);
    assert.deepEqual(await (await fetch(`${url}v1/status`)).json(), SOURCE.status());
    const folded = await fetch(`${url}v1/folded`);
    assert.equal(folded.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await folded.text(), foldedStacks(STACKS));
  });
});

Deno.test("serveMemprof() serves the page from the binary with a strict CSP", async () => {
  await withServer(async (url) => {
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /<script src="memprof.js" defer><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//); // nothing from the network
    const script = await fetch(`${url}memprof.js`);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await script.text(), /v1\/tree/);
    assert.equal((await fetch(`${url}memprof.css`)).status, 200);
  });
});

Deno.test("serveMemprof() refuses bad parameters, unknown paths, other methods and foreign hosts", async () => {
  await withServer(async (url) => {
    for (const query of ["threshold=-1", "threshold=abc", "reverse=maybe", "short=yes"]) {
      const response = await fetch(`${url}v1/tree?${query}`);
      assert.equal(response.status, 400, query);
      await response.body?.cancel();
    }
    const missing = await fetch(`${url}v2/tree`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'No such resource "/v2/tree"' });
    const post = await fetch(`${url}v1/tree`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    // DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own Host.
    const port = new URL(url).port;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(
      new TextEncoder().encode(
        `GET /v1/tree HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const answer = new Uint8Array(4096);
    const n = await conn.read(answer);
    conn.close();
    assert.match(new TextDecoder().decode(answer.subarray(0, n ?? 0)), /^HTTP\/1\.1 403/);
    const local = await fetch(`http://localhost:${port}/v1/pid`);
    assert.equal(local.status, 200);
    await local.body?.cancel();
  });
});

Deno.test("serveMemprof() sends CORS only when asked", async () => {
  await withServer(async (url) => {
    const response = await fetch(`${url}v1/pid`);
    assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:8080");
    await response.body?.cancel();
  }, { allowOrigin: "http://localhost:8080" });
});

Deno.test("serveMemprof() says when the port is taken", () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    assert.throws(() => serveMemprof(SOURCE, { port }), {
      message: `Cannot listen on 127.0.0.1:${port}: address already in use ` +
        "(another wrapp memprof? choose a port with --listen 127.0.0.1:PORT)",
    });
  } finally {
    listener.close();
  }
});

Deno.test("parseListen() reads PORT, HOST:PORT and [V6]:PORT", () => {
  assert.deepEqual(parseListen("17832"), { hostname: "127.0.0.1", port: 17832 });
  assert.deepEqual(parseListen("0.0.0.0:8080"), { hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseListen("[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseListen("localhost:0"), { hostname: "localhost", port: 0 });
  assert.throws(() => parseListen("host:99999"), { name: "UsageError" });
  assert.throws(() => parseListen("nope"), {
    message: 'Invalid --listen "nope": expected PORT or HOST:PORT, e.g. "127.0.0.1:17832"',
  });
});
