import assert from "node:assert/strict";
import type { WatchdogConfig } from "../../../core/config/config.ts";
import { type HangAlarm, type NotifyNews, ServiceWatchdog } from "./service_watchdog.ts";

type _Conn = {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
};

/** The first alarm (a function: the type checker would narrow `hangs` after `deepEqual(hangs, [])`). */
const firstHang = (t: { hangs: HangAlarm[] }): HangAlarm => t.hangs[0];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A watchdog on a socket in a fresh folder, a client to talk to it, and what it reported. */
async function setup(config: Partial<WatchdogConfig>, stat = "S") {
  const dir = await Deno.makeTempDir();
  // A fake /proc: the state of pid 42 is what the test writes.
  await Deno.mkdir(`${dir}/proc/42`, { recursive: true });
  const setState = (state: string) =>
    Deno.writeTextFileSync(`${dir}/proc/42/stat`, `42 (svc) ${state} 1 42 42 0 -1`);
  setState(stat);
  const hangs: HangAlarm[] = [];
  const news: NotifyNews[] = [];
  const debugLines: string[] = [];
  const watchdog = await ServiceWatchdog.open(
    { enabled: true, socket: `${dir}/notify.sock`, ...config },
    {
      onHang: (alarm) => hangs.push(alarm),
      onNews: (item) => news.push(item),
      procRoot: `${dir}/proc`,
      debug: (line) => debugLines.push(line),
    },
  );
  const client = (Deno as unknown as {
    listenDatagram(options: { transport: "unixpacket"; path: string }): _Conn;
  }).listenDatagram({ transport: "unixpacket", path: `${dir}/client.sock` });
  let sent = 0;
  const send = async (text: string) => {
    await client.send(new TextEncoder().encode(text), {
      transport: "unixpacket",
      path: `${dir}/notify.sock`,
    });
    sent++;
  };
  return {
    watchdog,
    hangs,
    news,
    debugLines,
    setState,
    send,
    /** Send, wait until the watchdog read it, and return what it reported. */
    async say(text: string) {
      const before = news.length;
      await send(text);
      await waitFor("the datagram to be read", () => watchdog.received === sent);
      return news.slice(before);
    },
    get sent() {
      return sent;
    },
    async [Symbol.asyncDispose]() {
      client.close();
      await watchdog.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("ServiceWatchdog gives the service NOTIFY_SOCKET, and WATCHDOG_USEC and a WATCHDOG_PID prefix with a timeout", async () => {
  await using plain = await setup({});
  assert.deepEqual(plain.watchdog.env(), { NOTIFY_SOCKET: plain.watchdog.socketPath });
  assert.deepEqual(plain.watchdog.prefix(), []);
  await using timed = await setup({ timeoutMs: 30_000 });
  assert.equal(timed.watchdog.env().WATCHDOG_USEC, "30000000");
  assert.match(
    timed.watchdog.prefix().join(" "),
    /WATCHDOG_PID=\$\$; export WATCHDOG_PID; exec "\$@"/,
  );
});

Deno.test("ServiceWatchdog arms the timeout at READY=1, and WATCHDOG=1 keeps it from firing", async () => {
  await using t = await setup({ timeoutMs: 1000 });
  t.watchdog.begin(42);
  await sleep(1300);
  assert.deepEqual(t.hangs, [], "no deadline before READY=1");
  assert.deepEqual(t.watchdog.armed, { watchdog: false, silence: false });
  assert.deepEqual(await t.say("READY=1\nSTATUS=serving"), [
    { kind: "ready", pid: 42 },
    { kind: "status", pid: 42, text: "serving" },
  ]);
  assert.equal(t.watchdog.statusText, "serving");
  assert.equal(t.watchdog.ready, true);
  for (let i = 0; i < 6; i++) {
    await t.send("WATCHDOG=1");
    await sleep(50);
  }
  assert.deepEqual(
    t.hangs,
    [],
    "pinged every 50 ms: alive (a 1 s stall of this test would fail it)",
  );
  await waitFor("the hang", () => t.hangs.length === 1);
  assert.equal(firstHang(t).reason, "watchdog");
  assert.equal(firstHang(t).limitMs, 1000);
  assert.equal(firstHang(t).pid, 42);
  assert.ok(firstHang(t).silentMs >= 1000);
  assert.deepEqual(t.watchdog.armed, { watchdog: false, silence: false });
});

Deno.test("ServiceWatchdog: silence fires when no line came, and lines push it back", async () => {
  await using t = await setup({ silenceMs: 1000 });
  t.watchdog.begin(42);
  assert.deepEqual(t.watchdog.armed, { watchdog: false, silence: true });
  for (let i = 0; i < 6; i++) {
    t.watchdog.sawOutput();
    await sleep(50);
  }
  assert.deepEqual(t.hangs, []);
  await waitFor("the hang", () => t.hangs.length === 1);
  assert.equal(firstHang(t).reason, "silence");
  assert.equal(firstHang(t).limitMs, 1000);
});

Deno.test("ServiceWatchdog does not fire while the service is stopped (SIGSTOP, a debugger)", async () => {
  await using t = await setup({ silenceMs: 100 }, "T");
  t.watchdog.begin(42);
  await sleep(400);
  assert.deepEqual(t.hangs, []);
  assert.equal(t.watchdog.armed.silence, true, "waiting one more period");
  t.setState("t");
  await sleep(250);
  assert.deepEqual(t.hangs, []);
  t.setState("S");
  await waitFor("the hang", () => t.hangs.length === 1);
});

Deno.test("ServiceWatchdog counts a whole window of silence after a stop, not the rest of one", async () => {
  await using t = await setup({ silenceMs: 300 }, "T");
  t.watchdog.begin(42);
  await waitFor("a deadline seen stopped", () => t.debugLines.some((l) => /is stopped/.test(l)));
  t.setState("S"); // resumed just now
  const resumedAt = performance.now();
  await waitFor("the hang", () => t.hangs.length === 1);
  assert.ok(performance.now() - resumedAt >= 300, "fired before a whole window since the resume");
});

Deno.test("ServiceWatchdog stops watching at STOPPING=1, at halt() and between runs", async () => {
  await using t = await setup({ timeoutMs: 100, silenceMs: 100 });
  t.watchdog.begin(42);
  await t.say("READY=1");
  assert.deepEqual(await t.say("STOPPING=1"), [{ kind: "stopping", pid: 42 }]);
  assert.deepEqual(t.watchdog.armed, { watchdog: false, silence: false });
  await t.say("WATCHDOG=1"); // does not arm it again
  await sleep(300);
  assert.deepEqual(t.hangs, []);

  t.watchdog.begin(42);
  t.watchdog.halt(); // wrapp stops the service
  await sleep(300);
  assert.deepEqual(t.hangs, []);

  t.watchdog.end();
  assert.deepEqual(await t.say("READY=1\nWATCHDOG=trigger"), [], "not the service's any more");
  await sleep(300);
  assert.deepEqual(t.hangs, []);
});

Deno.test("ServiceWatchdog fires at once on WATCHDOG=trigger, once per run", async () => {
  await using t = await setup({});
  t.watchdog.begin(42);
  await t.say("WATCHDOG=trigger");
  await t.say("WATCHDOG=trigger");
  assert.deepEqual(t.hangs, [{ reason: "trigger", silentMs: 0, pid: 42 }]);
  t.watchdog.begin(42);
  await t.say("WATCHDOG=trigger");
  assert.equal(t.hangs.length, 2, "a new run is watched again");
});

Deno.test("ServiceWatchdog takes a new timeout from WATCHDOG_USEC=, and 0 turns it off", async () => {
  await using t = await setup({ timeoutMs: 60_000 });
  t.watchdog.begin(42);
  await t.say("READY=1");
  assert.deepEqual(await t.say("WATCHDOG_USEC=0"), [{
    kind: "timeout",
    pid: 42,
    timeoutMs: undefined,
  }]);
  assert.equal(t.watchdog.armed.watchdog, false);
  await t.say("WATCHDOG_USEC=100000\nWATCHDOG=1");
  await waitFor("the hang", () => t.hangs.length === 1);
  assert.equal(firstHang(t).limitMs, 100);
});
