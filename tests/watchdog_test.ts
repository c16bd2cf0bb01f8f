/**
 * `[watchdog]` with real processes: services that speak the systemd notify protocol (a C
 * program's own sd_notify, a shell script's `systemd-notify`) or only print lines hang,
 * and wrapp's report, taken with the real gdb from the live process, names the function
 * they are stuck in; then [restart] starts them again. Everything lands in a real
 * redis-server, which the tests follow (XREAD BLOCK) instead of sleeping.
 *
 * gdb attaches to a process wrapp did not start itself only as root (or with
 * kernel.yama.ptrace_scope 0): under CI these tests fail when not root; elsewhere they are skipped.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { compileC, readLatestTrace, spawnWrapp, tempDir, writeScript } from "./_helpers.ts";
import { startRedis, writeRedisConfig } from "./_redis.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";
const ignore = !isRoot && !CI;

// The machine may be busy: the watchdog's limits are short, the waits for it are not.
const WAIT_MS = 120_000;

/** sd_notify() as a service written for systemd has it, without libsystemd. */
const NOTIFY_C = `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <pthread.h>

static void notify(const char *message) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path) return;
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  strncpy(address.sun_path, path, sizeof(address.sun_path) - 1);
  if (address.sun_path[0] == '@') address.sun_path[0] = 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sendto(fd, message, strlen(message), 0, (struct sockaddr *)&address, sizeof(address));
  close(fd);
}
`;

/** Says it is ready, pings for a while (longer than the timeout), then deadlocks in stuck_here(). */
const DEADLOCK_C = `${NOTIFY_C}
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void stuck_here(void) {
  pthread_mutex_lock(&lock);
  pthread_mutex_lock(&lock); /* never returns: the mutex is not recursive */
}

int main(void) {
  const char *pid = getenv("WATCHDOG_PID");
  printf("WATCHDOG_USEC=%s, WATCHDOG_PID is mine: %s\\n",
         getenv("WATCHDOG_USEC") ? getenv("WATCHDOG_USEC") : "unset",
         pid && atoi(pid) == getpid() ? "yes" : "no");
  fflush(stdout);
  notify("READY=1\\nSTATUS=serving");
  for (int i = 0; i < 8; i++) {
    usleep(300000);
    notify("WATCHDOG=1");
  }
  puts("about to hang");
  fflush(stdout);
  stuck_here();
  return 0;
}
`;

/** Prints a line every 200 ms, stops itself (SIGSTOP) until the test resumes it, then goes quiet in quiet_here(). */
const SILENT_C = `#include <signal.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void quiet_here(void) {
  for (;;) pause();
}

int main(void) {
  for (int i = 0; i < 8; i++) {
    printf("tick %d\\n", i);
    fflush(stdout);
    usleep(200000);
  }
  printf("pid %d stops itself\\n", getpid());
  fflush(stdout);
  raise(SIGSTOP);
  puts("resumed");
  fflush(stdout);
  quiet_here();
  return 0;
}
`;

type Entry = { id: string; fields: Record<string, string> };

function toEntry([id, flat]: [string, string[]]): Entry {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return { id, fields };
}

/** Every entry of stream `key`. */
async function entries(client: Redis, key: string): Promise<Entry[]> {
  return (await client.xrange(key, "-", "+")).map(toEntry);
}

/** Follow stream `key` (XREAD BLOCK) until an entry satisfies `match`; fail after `timeoutMs`. */
async function nextEntry(
  client: Redis,
  key: string,
  match: (entry: Entry) => boolean,
  timeoutMs = WAIT_MS,
): Promise<Entry> {
  const deadline = Date.now() + timeoutMs;
  let last = "0";
  while (Date.now() < deadline) {
    const reply = await client.xread("BLOCK", 1000, "STREAMS", key, last) as
      | [string, [string, string[]][]][]
      | null;
    for (const raw of reply?.[0]?.[1] ?? []) {
      const entry = toEntry(raw);
      last = entry.id;
      if (match(entry)) return entry;
    }
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for an entry in ${key}`);
}

/** Wait for wrapp to exit by itself; kill it and fail after `timeoutMs`. */
async function exitOf(child: Deno.ChildProcess, timeoutMs = WAIT_MS) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const output = child.output();
  const first = await Promise.race([output, timeout]);
  clearTimeout(timer);
  if (first === "timeout") {
    child.kill("SIGKILL");
    const { stderr } = await output;
    throw new Error(
      `wrapp did not exit within ${timeoutMs} ms:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return { code: first.code, stderr: new TextDecoder().decode(first.stderr) };
}

function prerequisites() {
  assert.ok(isRoot, "gdb attaches to the hung service: these tests need root (CI runs as root)");
}

Deno.test({
  name:
    "a C service that stops sending WATCHDOG=1 is reported stuck in stuck_here(), and restarted",
  ignore,
  async fn() {
    prerequisites();
    await using dir = await tempDir();
    await using redis = await startRedis();
    const exe = await compileC(dir.path, "deadlock", DEADLOCK_C);
    const config = await writeRedisConfig(dir.path, {
      executable: exe,
      name: "wd-deadlock",
      port: redis.port,
      appExtra: `stop_grace = "2s"`,
      extra: `[local]
enabled = true
dir = "${dir.path}/traces"
[restart]
policy = "on-failure"
delay = "100ms"
max_restarts = 1
[watchdog]
timeout = "2s"
socket = "${dir.path}/run/notify.sock"
`,
    });
    const wrapp = spawnWrapp(["run", config]);
    // Two runs, both hang: wrapp gives up after the one restart allowed, and exits.
    const result = await exitOf(wrapp);
    assert.equal(result.code, 143, result.stderr); // the last run ended with SIGTERM
    const summaries = result.stderr.match(/^wrapp: wd-deadlock \(pid \d+\) hung: .*$/gm) ?? [];
    assert.equal(summaries.length, 2, result.stderr);
    for (const summary of summaries) {
      assert.match(
        summary,
        /hung: no WATCHDOG=1 within the 2 s timeout; stuck in pthread_mutex_lock\(\) at stuck_here\(\) ← main\(\); its last status was "serving"; report in the crash stream$/,
      );
    }

    const logs = await redis.client(1);
    const hangs = await entries(logs, "logs:app:wd-deadlock:crash");
    assert.equal(hangs.length, 2);
    const info = await entries(logs, "logs:app:wd-deadlock:info");
    const aboutToHang = info.filter((e) => e.fields.message === "about to hang");
    assert.equal(aboutToHang.length, 2);
    for (const [i, hang] of hangs.entries()) {
      assert.equal(hang.fields.kind, "hang");
      assert.equal(hang.fields.reason, "watchdog");
      assert.equal(hang.fields.limit_ms, "2000");
      assert.equal(hang.fields.source, "gdb", hang.fields.problems);
      assert.equal(hang.fields.status_text, "serving");
      assert.match(hang.fields.backtrace, /stuck_here \(\) at .*deadlock\.c:\d+\n.*main \(\)/);
      // Eight pings 300 ms apart kept it alive for longer than the 2 s timeout.
      assert.ok(
        Number(hang.fields.ts) >= Number(aboutToHang[i].fields.ts),
        "the hang was reported before the service stopped pinging",
      );
    }
    assert.ok(
      info.some((e) => e.fields.message === "WATCHDOG_USEC=2000000, WATCHDOG_PID is mine: yes"),
      JSON.stringify(info.map((e) => e.fields.message)),
    );

    const status = await entries(logs, "logs:app:wd-deadlock:status");
    const messages = status.map((e) => e.fields.detail ?? e.fields.message);
    assert.equal(status.filter((e) => e.fields.phase === "start").length, 2);
    assert.equal(messages.filter((m) => m === "wd-deadlock is ready (READY=1)").length, 2);
    const restart = status.find((e) => e.fields.phase === "restart");
    assert.match(
      restart?.fields.reason ?? "",
      /stopped by the watchdog \(no WATCHDOG=1 within the 2 s timeout\)/,
    );
    const exits = status.filter((e) => e.fields.phase === "exit" && e.fields.stopped_by);
    assert.equal(exits.length, 2, JSON.stringify(status.map((e) => e.fields)));

    const state = await (await redis.client(5)).hgetall("wrapp:wd-deadlock:state");
    assert.equal(state.status_text, "serving");

    const trace = await readLatestTrace(`${dir.path}/traces`);
    const instants = trace.filter((e) => e.cat === "hang");
    assert.deepEqual(instants.map((e) => e.name), ["hang in stuck_here()", "hang in stuck_here()"]);
  },
});

Deno.test({
  name:
    "a silent service under [watchdog] silence is reported quiet in quiet_here(), never while it is stopped",
  ignore,
  async fn() {
    prerequisites();
    await using dir = await tempDir();
    await using redis = await startRedis();
    const exe = await compileC(dir.path, "silent", SILENT_C);
    const config = await writeRedisConfig(dir.path, {
      executable: exe,
      name: "wd-silent",
      port: redis.port,
      appExtra: `stop_grace = "2s"`,
      extra: `[crash]
ebpf_backtrace = false
[watchdog]
silence = "1s"
socket = "${dir.path}/notify.sock"
`,
    });
    const wrapp = spawnWrapp(["run", config]);
    const logs = await redis.client(1);
    const stopped = await nextEntry(
      logs,
      "logs:app:wd-silent:info",
      (e) => /stops itself$/.test(e.fields.message),
    );
    const pid = Number(/^pid (\d+)/.exec(stopped.fields.message)![1]);
    // Stopped for three times the silence limit: not hung, only stopped.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(await entries(logs, "logs:app:wd-silent:crash"), []);
    Deno.kill(pid, "SIGCONT");

    const hang = await nextEntry(logs, "logs:app:wd-silent:crash", () => true);
    assert.equal(hang.fields.kind, "hang");
    assert.equal(hang.fields.reason, "silence");
    assert.match(
      hang.fields.message,
      /^wrapp: wd-silent \(pid \d+\) hung: no output line within the 1 s silence limit; stuck in pause\(\) at quiet_here\(\) ← main\(\); report in the crash stream$/,
    );
    assert.match(hang.fields.backtrace, /quiet_here \(\) at .*silent\.c:\d+/);
    const result = await exitOf(wrapp);
    assert.equal(result.code, 143, result.stderr); // [restart] policy "never": wrapp ends with it
    const info = (await entries(logs, "logs:app:wd-silent:info")).map((e) => e.fields);
    const resumed = info.find((e) => e.message === "resumed");
    assert.ok(resumed, JSON.stringify(info));
    // The ticks pushed the deadline back; the stop did not count: silent only after "resumed".
    assert.ok(Number(hang.fields.ts) - Number(resumed.ts) >= 1000, "the hang came too early");
  },
});

Deno.test({
  name:
    "a shell script service using systemd-notify is watched unchanged, its STATUS= in the state hash",
  ignore,
  async fn() {
    prerequisites();
    await using dir = await tempDir();
    await using redis = await startRedis();
    // As a script written for a Type=notify unit with WatchdogSec= would do it.
    const script = await writeScript(
      dir.path,
      "notify.sh",
      `systemd-notify --ready --status="warming up"
for i in 1 2 3 4 5 6; do sleep 0.3; systemd-notify WATCHDOG=1; done
systemd-notify --status="about to hang"
echo "hanging"
sleep 1000`,
    );
    const config = await writeRedisConfig(dir.path, {
      executable: script,
      name: "wd-script",
      port: redis.port,
      appExtra: `stop_grace = "2s"`,
      extra: `[crash]
ebpf_backtrace = false
[restart]
policy = "on-failure"
delay = "100ms"
max_restarts = 1
[watchdog]
timeout = "2s"
socket = "${dir.path}/notify.sock"
`,
    });
    const result = await exitOf(spawnWrapp(["run", config]));
    assert.equal(result.code, 143, result.stderr);
    // The second run's last STATUS= (its start cleared the first run's).
    const state = await redis.client(5);
    assert.equal(await state.hget("wrapp:wd-script:state", "status_text"), "about to hang");
    const logs = await redis.client(1);
    const hangs = await entries(logs, "logs:app:wd-script:crash");
    assert.equal(hangs.length, 2, result.stderr);
    const hanging = (await entries(logs, "logs:app:wd-script:info"))
      .filter((e) => e.fields.message === "hanging");
    assert.equal(hanging.length, 2);
    for (const [i, hang] of hangs.entries()) {
      assert.equal(hang.fields.reason, "watchdog");
      assert.equal(hang.fields.status_text, "about to hang");
      assert.equal(hang.fields.source, "gdb", hang.fields.problems);
      assert.match(hang.fields.backtrace, /^Thread 1 /m);
      assert.ok(Number(hang.fields.ts) >= Number(hanging[i].fields.ts), "hung while it pinged");
    }
    const status = await entries(logs, "logs:app:wd-script:status");
    const details = status.map((e) => e.fields.detail ?? e.fields.message);
    assert.equal(details.filter((m) => m === "wd-script is ready (READY=1)").length, 2);
    assert.ok(details.includes("wd-script status: warming up"), JSON.stringify(details));
    assert.equal(status.filter((e) => e.fields.phase === "start").length, 2);
  },
});

Deno.test({
  name: "a service run as another user (nobody) notifies wrapp through a socket it owns",
  ignore,
  async fn() {
    prerequisites();
    await using dir = await tempDir();
    await Deno.chmod(dir.path, 0o755); // nobody runs the program and reaches the socket in here
    const exe = await compileC(dir.path, "deadlock", DEADLOCK_C);
    const config = `${dir.path}/svc.toml`;
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${exe}"
stream_name = "wd-nobody"
user = "nobody"
stop_grace = "2s"
[output]
echo = false
[crash]
ebpf_backtrace = false
[local]
dir = "${dir.path}/traces"
[watchdog]
timeout = "1s"
socket = "${dir.path}/run/notify.sock"
`,
    );
    const result = await exitOf(spawnWrapp(["run", config]));
    assert.equal(result.code, 143, result.stderr);
    // "serving" came from the service, as nobody, through the socket.
    assert.match(
      result.stderr,
      /^wrapp: wd-nobody \(pid \d+\) hung: no WATCHDOG=1 within the 1 s timeout; stuck in pthread_mutex_lock\(\) at stuck_here\(\) ← main\(\); its last status was "serving"; report in the crash stream$/m,
    );
    const trace = await readLatestTrace(`${dir.path}/traces`);
    const lines = trace.filter((e) => e.cat === "stdout").map((e) => e.args?.text);
    assert.ok(lines.includes("WATCHDOG_USEC=1000000, WATCHDOG_PID is mine: yes"), String(lines));
    await assert.rejects(Deno.lstat(`${dir.path}/run/notify.sock`), Deno.errors.NotFound);
  },
});
