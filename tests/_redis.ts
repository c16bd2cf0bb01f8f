/**
 * A throw-away redis-server for tests: a free port on 127.0.0.1, no persistence, stopped
 * when disposed (`await using redis = await startRedis()`), with `stop()`/`restart()` on
 * the same port for outage tests.
 *
 * @module
 */

import { Redis } from "ioredis";

/** Options for {@linkcode startRedis}. */
export interface StartRedisOptions {
  /** Start with `--requirepass`. Default: no password. */
  password?: string;
  /** Port to use. Default: a free one. */
  port?: number;
  /**
   * Keep data across {@linkcode RedisServer.stop}/{@linkcode RedisServer.restart}: an
   * append-only file fsynced before every reply (`--appendfsync always`) in a temporary
   * folder, so whatever Redis acknowledged survives even SIGKILL. Default false.
   */
  persistent?: boolean;
  /** Extra redis-server arguments, e.g. `["--maxmemory", "1mb"]`. */
  args?: string[];
}

/** A running redis-server owned by a test. */
export interface RedisServer extends AsyncDisposable {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on (the same after {@linkcode RedisServer.restart}). */
  readonly port: number;
  /** The `--requirepass` password, if any. */
  readonly password?: string;
  /** Whether the server is running. */
  readonly running: boolean;
  /** A connected ioredis client on database `db` (default 0), closed with the server. */
  client(db?: number): Promise<Redis>;
  /** Stop the server (SIGKILL: nothing saved, like a crash); clients reconnect later on their own. */
  stop(): Promise<void>;
  /** Freeze the server (SIGSTOP): connections stay open, nothing is answered — a hung Redis. */
  pause(): void;
  /** Let a paused server go on (SIGCONT). */
  resume(): void;
  /** Start it again on the same port (empty unless `persistent`) and wait until it answers PING. */
  restart(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Launch `redis-server` on a free port and wait until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? freePort();
  const dataDir = options.persistent
    ? await Deno.makeTempDir({ prefix: "wrapp-redis-" })
    : undefined;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    ...(dataDir
      ? ["--dir", dataDir, "--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
    ...(options.password ? ["--requirepass", options.password] : []),
    ...(options.args ?? []),
  ];
  let process: _Process;
  try {
    process = await _launch(args, port);
  } catch (error) {
    if (dataDir) await Deno.remove(dataDir, { recursive: true });
    throw error;
  }
  const clients: Redis[] = [];
  let running = true;

  const stop = async () => {
    if (!running) return;
    running = false;
    process.child.kill("SIGKILL");
    await process.child.status;
    await process.output;
  };
  return {
    host: "127.0.0.1",
    port,
    password: options.password,
    get running() {
      return running;
    },
    async client(db = 0) {
      const client = new Redis({
        host: "127.0.0.1",
        port,
        db,
        password: options.password,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      client.on("error", () => {}); // reported through the rejected commands
      await client.connect();
      clients.push(client);
      return client;
    },
    stop,
    pause() {
      process.child.kill("SIGSTOP");
    },
    resume() {
      process.child.kill("SIGCONT");
    },
    async restart() {
      await stop();
      process = await _launch(args, port);
      running = true;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.disconnect();
      await stop();
      if (dataDir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

interface _Process {
  child: Deno.ChildProcess;
  /** Resolves with everything the server printed, once it exits. */
  output: Promise<string>;
}

async function _launch(args: string[], port: number): Promise<_Process> {
  const child = new Deno.Command("redis-server", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const decoder = new TextDecoder();
  // A PING can be answered by another test's server that took the port first (this server
  // then fails to bind): only this server's own "Ready" line says it listens.
  let ready = false;
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    for await (const chunk of stream) {
      text = (text + decoder.decode(chunk)).slice(-8192);
      ready ||= text.includes("Ready to accept connections");
    }
    return text;
  };
  const output = Promise.all([collect(child.stdout), collect(child.stderr)]).then(([a, b]) =>
    a + b
  );
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (!exited && Date.now() < deadline) {
    if (ready && !exited && await _answersPing(port)) return { child, output };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!exited) child.kill("SIGKILL");
  await child.status;
  throw new Error(
    `Cannot start redis-server on port ${port}: ${(await output).trim() || "no answer to PING"}`,
  );
}

/** Whether something on `port` answers a RESP PING (a NOAUTH error counts: the server is up). */
async function _answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    const reply = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** What {@linkcode writeRedisConfig} writes. */
export interface RedisServiceConfig {
  executable: string;
  args?: string[];
  /** `stream_name`. Default `"svc"`. */
  name?: string;
  /** The Redis port (a closed one for an unreachable Redis). */
  port: number;
  /** `[redis] layout`; the default (`go`) when absent. */
  layout?: "go" | "wrapp";
  /** More lines for `[app]`. */
  appExtra?: string;
  /** More lines for `[redis]`. */
  extra?: string;
}

/** `<dir>/svc.toml` streaming the service into Redis, spool in `<dir>/spool`, echo and local trace off. */
export async function writeRedisConfig(dir: string, app: RedisServiceConfig): Promise<string> {
  const path = `${dir}/svc.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[app]",
      `executable = ${JSON.stringify(app.executable)}`,
      `args = ${JSON.stringify(app.args ?? [])}`,
      `stream_name = ${JSON.stringify(app.name ?? "svc")}`,
      app.appExtra ?? "",
      "[output]",
      "echo = false",
      "[redis]",
      `port = ${app.port}`,
      `spool_dir = ${JSON.stringify(`${dir}/spool`)}`,
      app.layout ? `layout = "${app.layout}"` : "",
      app.extra ?? "",
      "",
    ].join("\n"),
  );
  return path;
}

/** The `message` of every entry of stream `key`, in order. */
export async function streamMessages(client: Redis, key: string): Promise<string[]> {
  const entries = await client.xrange(key, "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("message") + 1]);
}
