/**
 * A throw-away Redis Sentinel deployment for tests, all on free loopback ports: a master,
 * its replicas and several `redis-sentinel` processes watching it with a short
 * `down-after-milliseconds`, stopped and removed when disposed
 * (`await using group = await startSentinelGroup()`).
 *
 * @module
 */

import { Redis } from "ioredis";
import { freePort, type RedisServer, startRedis } from "./_redis.ts";
import { waitFor } from "./_helpers.ts";

/** Options of {@linkcode startSentinelGroup}. */
export interface SentinelGroupOptions {
  /** Replicas of the master. Default 1. */
  replicas?: number;
  /** Sentinels. Default 3 (quorum 2). */
  sentinels?: number;
  /** The name the Sentinels monitor the master under. Default `"mymaster"`. */
  masterName?: string;
  /** `sentinel down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
}

/** A running master, its replicas and the Sentinels watching them. */
export interface SentinelGroup extends AsyncDisposable {
  /** The master it started with (after a failover, a replica of the new one once restarted). */
  readonly master: RedisServer;
  /** The replicas it started with. */
  readonly replicas: readonly RedisServer[];
  /** The Sentinels' ports on 127.0.0.1. */
  readonly sentinelPorts: readonly number[];
  /** `"127.0.0.1:<port>"` of every Sentinel, as `[redis] sentinels` takes them. */
  readonly sentinels: readonly string[];
  /** The monitored name. */
  readonly masterName: string;
  /** The port of the master the Sentinel on `sentinelPorts[index]` names now. */
  masterPort(index?: number): Promise<number>;
  /** The server (of `master` and `replicas`) listening on `port`. */
  server(port: number): RedisServer;
  /** Set `down-after-milliseconds` on every Sentinel. */
  setDownAfterMs(ms: number): Promise<void>;
  /** The last `lines` lines of every Sentinel's log (its events: +sdown, +switch-master…). */
  sentinelLogs(lines?: number): Promise<string>;
}

/**
 * Start a master, `replicas` replicas and `sentinels` Sentinels, and wait until every
 * Sentinel knows every replica and every other Sentinel: only then can they agree on a
 * failover.
 */
export async function startSentinelGroup(
  options: SentinelGroupOptions = {},
): Promise<SentinelGroup> {
  const masterName = options.masterName ?? "mymaster";
  const count = options.sentinels ?? 3;
  const cleanup: (() => Promise<void>)[] = [];
  const dispose = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };
  try {
    const dir = await Deno.makeTempDir({ prefix: "wrapp-sentinel-" });
    cleanup.push(() => Deno.remove(dir, { recursive: true }));
    // Each server in a folder of its own: a replica's full sync writes dump.rdb there, and a
    // server (re)started in a folder holding one would load it instead of starting empty.
    const folder = async (name: string) => {
      await Deno.mkdir(`${dir}/${name}`);
      return ["--dir", `${dir}/${name}`];
    };
    const master = await startRedis({ args: await folder("master") });
    cleanup.push(async () => await master[Symbol.asyncDispose]());
    const replicas: RedisServer[] = [];
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      const replica = await startRedis({
        args: [...await folder(`replica-${i}`), "--replicaof", "127.0.0.1", String(master.port)],
      });
      cleanup.push(async () => await replica[Symbol.asyncDispose]());
      replicas.push(replica);
    }
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const port = freePort();
      const file = `${dir}/sentinel-${port}.conf`;
      // A Sentinel rewrites its config file: each has its own, writable.
      await Deno.writeTextFile(
        file,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${master.port} ${Math.floor(count / 2) + 1}`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} 10000`,
          `logfile ${dir}/sentinel-${port}.log`,
          "",
        ].join("\n"),
      );
      const child = new Deno.Command("redis-sentinel", {
        args: [file],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      cleanup.push(async () => {
        child.kill("SIGKILL");
        await child.status;
      });
      ports.push(port);
    }
    const clients = ports.map((port) => {
      const client = new Redis({
        host: "127.0.0.1",
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      client.on("error", () => {});
      return client;
    });
    cleanup.push(() => {
      for (const client of clients) client.disconnect();
      return Promise.resolve();
    });
    // Generous: Sentinels find replicas through INFO every 10 s and each other through hello
    // messages every 2 s; on a busy machine that takes a while.
    await waitFor(
      async () => {
        for (const client of clients) {
          try {
            if (client.status === "wait" || client.status === "end") await client.connect();
            const known = await client.call("SENTINEL", "REPLICAS", masterName) as string[][];
            const up = known.filter((fields) => {
              const flags = fields[fields.indexOf("flags") + 1] ?? "";
              return !/s_down|o_down|disconnected/.test(flags);
            });
            const others = await client.call("SENTINEL", "SENTINELS", masterName) as unknown[];
            if (up.length < replicas.length || others.length < count - 1) return false;
          } catch {
            return false;
          }
        }
        return true;
      },
      60_000,
      "every Sentinel to know every replica and every other Sentinel",
    );
    const masterClient = await master.client(0);
    await waitFor(
      async () =>
        ((await masterClient.info("replication")).match(/state=online/g) ?? []).length >=
          replicas.length,
      60_000,
      "every replica to be in sync with the master",
    );
    const servers = [master, ...replicas];
    return {
      master,
      replicas,
      sentinelPorts: ports,
      sentinels: ports.map((port) => `127.0.0.1:${port}`),
      masterName,
      async masterPort(index = 0) {
        const reply = await clients[index].call(
          "SENTINEL",
          "GET-MASTER-ADDR-BY-NAME",
          masterName,
        ) as [string, string] | null;
        return Number(reply?.[1]);
      },
      async setDownAfterMs(ms) {
        await Promise.all(
          clients.map((client) =>
            client.call("SENTINEL", "SET", masterName, "down-after-milliseconds", String(ms))
          ),
        );
      },
      server(port) {
        const found = servers.find((server) => server.port === port);
        if (found === undefined) throw new Error(`No server of the group listens on ${port}`);
        return found;
      },
      async sentinelLogs(lines = 40) {
        const logs = await Promise.all(ports.map(async (port) => {
          const text = await Deno.readTextFile(`${dir}/sentinel-${port}.log`).catch((e) => `${e}`);
          return `Sentinel ${port}:\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
        }));
        return logs.join("\n");
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
