/**
 * `wrapp run` with a [debug] section: the service waits at its first instruction with a
 * real gdbserver attached; a real `gdb -batch` connects, stops in main, continues, and
 * the service's output, exit code and restarts go through wrapp as usual.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  type TraceEvent,
  waitFor,
} from "./_helpers.ts";
import { freePort } from "./_redis.ts";
import { findProgram } from "../lib/core/find_executable.ts";
import { procStatFields } from "../lib/core/proc_stat.ts";
import { readTextOrUndefined } from "../lib/core/read_text_or_undefined.ts";

const CI = Deno.env.get("CI") === "true";
const TOOLS = ["gdb", "gdbserver", "gcc"];
const missing = (await Promise.all(TOOLS.map(async (t) => await findProgram(t) ? [] : [t])))
  .flat();
const ready = missing.length === 0;

function assertTools(): void {
  assert.ok(ready, `[debug] tests need ${missing.join(", ")} (apt-get install gdb gdbserver gcc)`);
}

/**
 * A service worth debugging: `answer` is 0 until main sets it. With a file argument it
 * exits 3 the first time (creating the file) and 0 once the file is there.
 */
const SERVICE_C = `#include <stdio.h>
#include <unistd.h>
int answer = 0;
int main(int argc, char **argv) {
  answer = 42;
  printf("hello from the debugged service %d\\n", answer);
  fflush(stdout);
  fprintf(stderr, "a line on stderr\\n");
  if (argc > 1 && access(argv[1], F_OK) == 0) return 0;
  if (argc > 1) fclose(fopen(argv[1], "w"));
  return 3;
}
`;

async function compileService(dir: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/svc.c`, SERVICE_C);
  const gcc = await new Deno.Command("gcc", {
    args: ["-g", "-O0", "-o", `${dir}/svc`, `${dir}/svc.c`],
  }).output();
  assert.equal(gcc.code, 0, new TextDecoder().decode(gcc.stderr));
  return `${dir}/svc`;
}

async function writeDebugConfig(
  dir: string,
  options: { executable: string; port: number; args?: string[]; extra?: string },
): Promise<string> {
  const path = `${dir}/svc.toml`;
  await Deno.writeTextFile(
    path,
    `[app]
executable = ${JSON.stringify(options.executable)}
args = ${JSON.stringify(options.args ?? [])}
stream_name = "debugged"
stop_grace = "5s"

[output]
echo = false

[local]
dir = ${JSON.stringify(`${dir}/traces`)}

[debug]
enabled = true
port = ${options.port}
${options.extra ?? ""}
`,
  );
  return path;
}

/** Everything a stream says, as it comes. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  return { text: () => text, done };
}

/** Wait until wrapp has said `pattern` `times` times on stderr; fail with what it said. */
async function waitForStderr(
  stderr: { text: () => string },
  pattern: RegExp,
  times = 1,
): Promise<void> {
  const count = () => [...stderr.text().matchAll(new RegExp(pattern, "g"))].length;
  try {
    await waitFor(() => count() >= times, 20_000, `${pattern} ${times} time(s) on stderr`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; wrapp said:\n${stderr.text()}`);
  }
}

/** Run a real `gdb -batch` against gdbserver on `port`; its whole output. */
async function runGdb(program: string, port: number, commands: string[]): Promise<string> {
  const args = [
    "-batch",
    "-nx",
    "-ex",
    "set sysroot /", // read the libraries locally rather than through gdbserver
    "-ex",
    `target remote 127.0.0.1:${port}`,
    ...commands.flatMap((c) => ["-ex", c]),
    program,
  ];
  const gdb = new Deno.Command("gdb", { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => gdb.kill("SIGKILL"), 30_000);
  const output = await gdb.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return decoder.decode(output.stdout) + decoder.decode(output.stderr);
}

function statusInstants(events: TraceEvent[]): TraceEvent[] {
  return events.filter((e) => e.ph === "i" && e.cat === "info");
}

function processAlive(pid: number): boolean {
  const stat = readTextOrUndefined(`/proc/${pid}/stat`);
  const state = stat === undefined ? undefined : procStatFields(stat)?.[0];
  return state !== undefined && state !== "Z";
}

Deno.test({
  name:
    "wrapp run [debug] holds the service at its first instruction for gdb, then passes its output and exit code",
  ignore: !ready && !CI,
  async fn() {
    assertTools();
    await using dir = await tempDir();
    const program = await compileService(dir.path);
    const port = freePort();
    const config = await writeDebugConfig(dir.path, { executable: program, port });
    const wrapp = spawnWrapp(["run", config]);
    const stderr = collect(wrapp.stderr);
    const stdout = collect(wrapp.stdout);
    await waitForStderr(stderr, /\(gdb\) continue/);
    // Held: nothing printed yet, and the process is stopped, traced by gdbserver.
    const text = stderr.text();
    assert.match(
      text,
      new RegExp(
        `debugged \\(pid (\\d+)\\) waits at its first instruction for a debugger; gdbserver listens on 127\\.0\\.0\\.1:${port}\\. Connect with:\\n` +
          `wrapp:   gdb ${program}\\n` +
          `wrapp:   \\(gdb\\) target remote 127\\.0\\.0\\.1:${port}\\n` +
          `wrapp:   \\(gdb\\) continue\\n`,
      ),
    );
    const pid = Number(/debugged \(pid (\d+)\)/.exec(text)![1]);
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    assert.match(status, /^State:\s+t \(tracing stop\)/m);
    assert.notEqual(Number(/^TracerPid:\s+(\d+)/m.exec(status)![1]), 0);

    const gdb = await runGdb(program, port, [
      "x/i $pc",
      "print answer",
      "break main",
      "continue",
      "print answer",
      "next",
      "print answer",
    ]);
    // It starts at the dynamic loader's entry point: nothing of the service ran yet.
    assert.match(gdb, /=> 0x[0-9a-f]+ <_start>:/, gdb);
    assert.match(gdb, /\$1 = 0\n/, gdb);
    assert.match(gdb, /Breakpoint 1, main \(/, gdb);
    assert.doesNotMatch(gdb, /received signal/, gdb);
    assert.match(gdb, /\$3 = 42\n/, gdb);
    assert.match(gdb, /\[Inferior 1 \(process \d+\) detached\]/, gdb);

    // gdb -batch detached at its end: the service runs on, and ends as usual.
    const { code } = await wrapp.status;
    await Promise.all([stderr.done, stdout.done]);
    assert.equal(code, 3, stderr.text());
    assert.match(stderr.text(), /a debugger connected to debugged from 127\.0\.0\.1/);
    const events = await readLatestTrace(`${dir.path}/traces`);
    assert.deepEqual(logTexts(events, "stdout"), ["hello from the debugged service 42"]);
    assert.deepEqual(logTexts(events, "stderr"), ["a line on stderr"]);
    const held = statusInstants(events).find((e) => /waits at its first instruction/.test(e.name!));
    assert.ok(held, JSON.stringify(statusInstants(events)));
    assert.equal(
      held.name,
      `debugged (pid ${pid}) waits at its first instruction for a debugger; gdbserver listens on 127.0.0.1:${port}. ` +
        `Connect with: gdb ${program}; (gdb) target remote 127.0.0.1:${port}; (gdb) continue`,
    );
    assert.equal(held.args?.pid, pid);
    assert.equal(held.args?.debug_address, `127.0.0.1:${port}`);
    assert.equal(held.args?.program, program);
    const gdbserverPid = Number(held.args?.gdbserver_pid);
    assert.ok(gdbserverPid > 0);
    assert.equal(processAlive(gdbserverPid), false, "gdbserver is gone with the service");
    const exit = events.find((e) => e.ph === "E" && e.args?.exit_code !== undefined);
    assert.equal(exit?.args?.exit_code, 3);
  },
});

Deno.test({
  name: "wrapp run [debug] holds each restart again, with a new gdbserver on the same port",
  ignore: !ready && !CI,
  async fn() {
    assertTools();
    await using dir = await tempDir();
    const program = await compileService(dir.path);
    const port = freePort();
    const config = await writeDebugConfig(dir.path, {
      executable: program,
      port,
      args: [`${dir.path}/ran-once`],
      extra: `\n[restart]\npolicy = "on-failure"\ndelay = "100ms"\n`,
    });
    const wrapp = spawnWrapp(["run", config]);
    const stderr = collect(wrapp.stderr);
    const stdout = collect(wrapp.stdout);
    const pids: number[] = [];
    for (const run of [1, 2]) {
      await waitForStderr(stderr, /\(gdb\) continue/, run);
      pids.push(Number([...stderr.text().matchAll(/debugged \(pid (\d+)\) waits/g)][run - 1][1]));
      const gdb = await runGdb(program, port, ["break main", "continue", "bt 1"]);
      assert.match(gdb, /Breakpoint 1, main \(/, `run ${run}:\n${gdb}`);
    }
    const { code } = await wrapp.status;
    await Promise.all([stderr.done, stdout.done]);
    assert.equal(code, 0, stderr.text());
    assert.notEqual(pids[0], pids[1]);
    const events = await readLatestTrace(`${dir.path}/traces`);
    assert.ok(
      events.some((e) => e.cat === "restart" && /^restarting debugged in 100 ms/.test(e.name!)),
    );
    const gdbservers = statusInstants(events)
      .filter((e) => /waits at its first instruction/.test(e.name!))
      .map((e) => Number(e.args?.gdbserver_pid));
    assert.equal(gdbservers.length, 2);
    assert.notEqual(gdbservers[0], gdbservers[1]);
    assert.ok(gdbservers.every((pid) => !processAlive(pid)), "no gdbserver left");
    assert.deepEqual(logTexts(events, "stdout"), [
      "hello from the debugged service 42",
      "hello from the debugged service 42",
    ]);
  },
});

Deno.test({
  name: "wrapp run [debug]: SIGTERM while the service waits for a debugger stops it at once",
  ignore: !ready && !CI,
  async fn() {
    assertTools();
    await using dir = await tempDir();
    const program = await compileService(dir.path);
    const port = freePort();
    const config = await writeDebugConfig(dir.path, { executable: program, port });
    const wrapp = spawnWrapp(["run", config]);
    const stderr = collect(wrapp.stderr);
    const stdout = collect(wrapp.stdout);
    await waitForStderr(stderr, /\(gdb\) continue/);
    const started = Date.now();
    wrapp.kill("SIGTERM");
    const { code } = await wrapp.status;
    await Promise.all([stderr.done, stdout.done]);
    // Well within the 5 s grace period: the signal did not wait for a debugger.
    assert.ok(Date.now() - started < 4000, `stopped after ${Date.now() - started} ms`);
    assert.equal(code, 143, stderr.text());
    const events = await readLatestTrace(`${dir.path}/traces`);
    const held = statusInstants(events).find((e) => /waits at its first/.test(e.name!));
    assert.equal(processAlive(Number(held?.args?.gdbserver_pid)), false, "gdbserver is gone");
    assert.deepEqual(logTexts(events, "stdout"), []);
  },
});

Deno.test({
  name: "wrapp run [debug] with the port taken ends the run with gdbserver's reason, exit 69",
  ignore: !ready && !CI,
  async fn() {
    assertTools();
    await using dir = await tempDir();
    const program = await compileService(dir.path);
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    const config = await writeDebugConfig(dir.path, { executable: program, port });
    const result = await runWrapp(["run", config]);
    assert.equal(result.code, 69, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `Cannot start gdbserver on "127\\.0\\.0\\.1:${port}" for "debugged" \\(pid \\d+\\): Can't bind address: Address already in use`,
      ),
    );
    // The service never ran, and is gone.
    const events = await readLatestTrace(`${dir.path}/traces`);
    assert.deepEqual(logTexts(events, "stdout"), []);
    const pid = Number(/\(pid (\d+)\)/.exec(result.stderr)![1]);
    assert.equal(processAlive(pid), false);
    // The run's slice is closed by the failure.
    assert.equal(events.find((e) => e.ph === "E")?.args?.pid, pid, JSON.stringify(events));
  },
});

Deno.test({
  name: "wrapp run [debug] without gdbserver in PATH says which package to install",
  async fn() {
    await using dir = await tempDir();
    const config = await writeDebugConfig(dir.path, { executable: "/bin/true", port: 2345 });
    const result = await runWrapp(["run", config], { env: { PATH: dir.path } });
    assert.equal(result.code, 69, result.stderr);
    assert.match(
      result.stderr,
      /Cannot start gdbserver: "gdbserver" was not found in PATH; install the Debian package "gdbserver"/,
    );
    // Nothing started.
    await assert.rejects(Deno.stat(`${dir.path}/traces/latest`));
  },
});

Deno.test({
  name: "wrapp doctor --config checks for gdbserver when the config has [debug] enabled",
  async fn() {
    await using dir = await tempDir();
    const config = await writeDebugConfig(dir.path, { executable: "/bin/true", port: 2345 });
    const checkOf = (stdout: string) =>
      (JSON.parse(stdout) as Record<string, string | boolean>[])
        .find((r) => r.check === "gdbserver");

    const without = await runWrapp(["doctor", "--config", config, "--json"], {
      env: { PATH: dir.path },
    });
    assert.deepEqual(
      { ...checkOf(without.stdout), message: undefined },
      {
        check: "gdbserver",
        status: "missing",
        needed: true,
        message: undefined,
        fix: "apt-get install gdbserver",
      },
    );
    assert.match(String(checkOf(without.stdout)?.message), /"gdbserver" is not in PATH/);
    assert.equal(without.code, 1);

    if (!ready && !CI) return; // the rest needs gdbserver installed
    assertTools();
    const found = await runWrapp(["doctor", "--config", config, "--json"]);
    assert.equal(checkOf(found.stdout)?.status, "ok", found.stdout);
  },
});
