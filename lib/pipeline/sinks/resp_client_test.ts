import assert from "node:assert/strict";
import { RespClient, RespReplyError } from "./resp_client.ts";
import { fakeRedisServer } from "./fake_redis_server.ts";

const _OK = "+OK\r\n";

Deno.test("RespClient authenticates, names the connection and selects the database in one round trip", async () => {
  const server = fakeRedisServer(() => _OK);
  const client = new RespClient({
    host: "127.0.0.1",
    port: server.port,
    username: "cam",
    password: "s3cret",
    db: 5,
    connectionName: "wrapp:robot",
  });
  try {
    assert.equal(client.status, "wait");
    let ready = 0;
    client.on("ready", () => ready++);
    await client.connect();
    assert.equal(client.status, "ready");
    assert.equal(ready, 1);
    assert.deepEqual(server.commands, [
      ["AUTH", "cam", "s3cret"],
      ["CLIENT", "SETNAME", "wrapp:robot"],
      ["SELECT", "5"],
      ["PING"], // the ready check
    ]);
  } finally {
    client.disconnect();
    await server.close();
  }
  assert.equal(client.status, "end");
});

Deno.test("RespClient parses every reply type, split across reads, and counts UTF-8 bytes", async () => {
  const replies: Record<string, string> = {
    PING: "+PONG\r\n",
    INCR: ":42\r\n",
    GET: "$-1\r\n",
    XADD: "$15\r\n1700000000000-0\r\n",
    // A nested array with a non-ASCII bulk string, as XREAD answers.
    XREAD:
      "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$7\r\nmessage\r\n$5\r\nh\u00e9\u00e9\r\n",
  };
  const server = fakeRedisServer((args) => {
    if (args[0] === "ECHO") return `$${new TextEncoder().encode(args[1]).length}\r\n${args[1]}\r\n`;
    return replies[args[0]] ?? "-ERR unknown command\r\n";
  });
  const client = new RespClient({ host: "127.0.0.1", port: server.port });
  try {
    await client.connect();
    assert.equal(await client.ping(), "PONG");
    assert.equal(await client.call("INCR", "n"), 42);
    assert.equal(await client.call("GET", "missing"), null);
    assert.equal(await client.call("XADD", "k", "*", "message", "hi"), "1700000000000-0");
    assert.deepEqual(await client.xread("STREAMS", "k", "0"), [["k", [["1-0", [
      "message",
      "h\u00e9\u00e9",
    ]]]]]);
    await assert.rejects(client.call("NOPE"), (error: Error) => {
      assert.ok(error instanceof RespReplyError);
      assert.equal(error.name, "ReplyError");
      assert.equal(error.message, "ERR unknown command");
      return true;
    });
    // The fake server counts characters: the byte length sent must match what it reads.
    const text = "x".repeat(100_000);
    assert.equal(await client.call("ECHO", text), text);
  } finally {
    client.disconnect();
    await server.close();
  }
});

Deno.test("RespClient pipeline answers [error, reply] per command, in order", async () => {
  let n = 0;
  const server = fakeRedisServer((args) => {
    if (args[0] === "PING") return "+PONG\r\n"; // the ready check
    return args[0] === "BAD" ? "-WRONGTYPE Operation against a key\r\n" : `:${++n}\r\n`;
  });
  const client = new RespClient({ host: "127.0.0.1", port: server.port });
  try {
    await client.connect();
    const pipeline = client.pipeline();
    for (let k = 0; k < 1000; k++) pipeline.call(k === 500 ? "BAD" : "INCR", ["n"]);
    const replies = await pipeline.exec();
    assert.equal(replies.length, 1000);
    assert.deepEqual(replies[0], [null, 1]);
    assert.equal(replies[500][0]?.name, "ReplyError");
    assert.deepEqual(replies[999], [null, 999]);
  } finally {
    client.disconnect();
    await server.close();
  }
});

Deno.test('RespClient pipeline exec({ textless }) gives string replies as "", and a plain call after it its text', async () => {
  const server = fakeRedisServer((args) => {
    if (args[0] === "PING") return "+PONG\r\n"; // the ready check
    if (args[0] === "BAD") return "-ERR bad\r\n";
    if (args[0] === "INCR") return ":7\r\n";
    return "$15\r\n1765000000000-0\r\n";
  });
  const client = new RespClient({ host: "127.0.0.1", port: server.port });
  try {
    await client.connect();
    const pipeline = client.pipeline();
    for (const command of ["XADD", "BAD", "INCR", "XADD"]) pipeline.call(command, ["k"]);
    const textless = pipeline.exec({ textless: true });
    const plain = client.call("XADD", "k");
    const replies = await textless;
    assert.deepEqual(replies[0], [null, ""]);
    assert.equal(replies[1][0]?.message, "ERR bad");
    assert.deepEqual(replies.slice(2), [[null, 7], [null, ""]]);
    assert.equal(await plain, "1765000000000-0");
  } finally {
    client.disconnect();
    await server.close();
  }
});

Deno.test("RespClient fails waiting and new commands when the connection drops, then reconnects by its strategy", async () => {
  const server = fakeRedisServer((args) => args[0] === "HANG" ? null : _OK);
  const client = new RespClient({
    host: "127.0.0.1",
    port: server.port,
    db: 2,
    retryStrategy: () => 20,
  });
  const errors: string[] = [];
  client.on("error", (error) => errors.push(String((error as Error).message)));
  try {
    await client.connect();
    const hanging = client.pipeline().call("HANG", []).exec();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const readyAgain = new Promise<void>((resolve) => {
      const onReady = () => {
        client.off("ready", onReady);
        resolve();
      };
      client.on("ready", onReady);
    });
    server.dropAll();
    const [[error, reply]] = await hanging;
    assert.ok(error instanceof Error && error.name !== "ReplyError", String(error));
    assert.equal(reply, null);
    assert.equal(errors.length, 1);
    await readyAgain;
    assert.equal(client.status, "ready");
    assert.equal(await client.call("SET", "k", "v"), "OK");
    // Every connection selected its database.
    assert.equal(server.commands.filter(([name]) => name === "SELECT").length, 2);
  } finally {
    client.disconnect();
    await server.close();
  }
});

Deno.test("RespClient refuses commands while not connected and reports a refused connection with its code", async () => {
  const server = fakeRedisServer(() => _OK);
  const port = server.port;
  await server.close();
  const client = new RespClient({ host: "127.0.0.1", port });
  await assert.rejects(client.ping(), /Stream isn't writeable/);
  await assert.rejects(client.connect(), (error: Error & { code?: string }) => {
    assert.equal(error.code, "ECONNREFUSED");
    return true;
  });
  assert.equal(client.status, "end"); // no retry strategy: it gives up
});

Deno.test("RespClient disconnect() during a connect leaves nothing open", async () => {
  const server = fakeRedisServer(() => null); // never answers the handshake
  const client = new RespClient({ host: "127.0.0.1", port: server.port, db: 1 });
  try {
    const connecting = client.connect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.disconnect();
    await assert.rejects(connecting, /Connection is closed/);
    assert.equal(client.status, "end");
  } finally {
    await server.close();
  }
});

Deno.test("RespClient is not ready while Redis is loading its data set: PING waits out LOADING", async () => {
  // Redis restarted from its AOF takes SELECT at once but refuses writes with LOADING
  // until the data set is in: the ready check must not let a pipeline in before that.
  let loading = 2;
  const server = fakeRedisServer((args) => {
    if (args[0] !== "PING") return _OK;
    return loading-- > 0 ? "-LOADING Redis is loading the dataset in memory\r\n" : "+PONG\r\n";
  });
  const client = new RespClient({ host: "127.0.0.1", port: server.port, db: 1 });
  try {
    const connecting = client.connect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.status, "connecting");
    await connecting;
    assert.equal(client.status, "ready");
    assert.deepEqual(server.commands, [["SELECT", "1"], ["PING"], ["PING"], ["PING"]]);
  } finally {
    client.disconnect();
    await server.close();
  }
});

Deno.test("RespClient disconnect() while Redis is loading ends the ready check", async () => {
  const server = fakeRedisServer((args) =>
    args[0] === "PING" ? "-LOADING Redis is loading the dataset in memory\r\n" : _OK
  );
  const client = new RespClient({ host: "127.0.0.1", port: server.port });
  try {
    const connecting = client.connect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.disconnect();
    await assert.rejects(connecting, /Connection is closed/);
    assert.equal(client.status, "end");
  } finally {
    await server.close();
  }
});
