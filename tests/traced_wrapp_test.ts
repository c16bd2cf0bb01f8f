/**
 * `wrapp run` under `strace -f`: its children are traced, so the shell that holds a start
 * before its exec could never be seen stopped (`t`, not `T`). wrapp then starts the
 * service unheld, says so, and its crash watcher and cgroup still take it: a crash after
 * the start is reported with a symbolized eBPF stack, and no 10 s wait for a stop comes first.
 *
 * Needs root (eBPF): under CI it fails when not root; elsewhere it is skipped.
 */

import assert from "node:assert/strict";
import { compileC, logTexts, MAIN, readLatestTrace, SEGV_C, tempDir } from "./_helpers.ts";
import { freePort } from "./_redis.ts";

const isRoot = Deno.uid() === 0;
const ignore = !isRoot && Deno.env.get("CI") !== "true";

Deno.test({
  name: "wrapp run under strace -f starts the service unheld and still reports its crash",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    await compileC(dir.path, "segv", SEGV_C);
    // The service crashes once the test saw wrapp watch it (the file "go"): unheld, it
    // runs while wrapp attaches. It waits 30 s at most, so a wrapp that never says so fails
    // the test instead of hanging it.
    await Deno.writeTextFile(
      `${dir.path}/svc.sh`,
      `#!/bin/sh\ni=0\nwhile [ ! -e ${dir.path}/go ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i + 1)); done\nexec prlimit --core=0 -- ${dir.path}/segv\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      `${dir.path}/svc.toml`,
      `[app]
executable = "${dir.path}/svc.sh"
stream_name = "traced"
[output]
echo = false
[crash]
core_timeout = "1s"
[limits]
memory_max = "512M"
[local]
dir = "${dir.path}/traces"
`,
    );
    const strace = new Deno.Command("strace", {
      args: ["-f", "-o", "/dev/null", Deno.execPath(), "run", "-A", "--quiet", MAIN, "run"]
        .concat([`${dir.path}/svc.toml`]),
      env: { NO_COLOR: "1", WRAPP_DEBUG: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const decoder = new TextDecoder();
    for await (const chunk of strace.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (/\] pid \d+ not held: watched as it runs$/m.test(stderr)) {
        await Deno.writeTextFile(`${dir.path}/go`, "");
      }
    }
    const status = await strace.status;
    assert.equal(status.code, 139, stderr);
    // strace runs deno itself: deno is traced by strace's pid.
    assert.match(
      stderr,
      new RegExp(
        `^wrapp: wrapp is traced by pid ${strace.pid}: traced starts without being held before its exec`,
        "m",
      ),
    );
    assert.doesNotMatch(stderr, /the service (did not stop|is traced)/);
    assert.match(stderr, /\] pid \d+ in cgroup /, "its cgroup took it as it ran");
    assert.match(
      stderr,
      /^wrapp: traced \(pid \d+\) crashed with SIGSEGV at crash_here\(\) ← level_one\(\) ← main\(\)/m,
    );
    const crashes = (await readLatestTrace(`${dir.path}/traces`)).filter((e) => e.cat === "crash");
    assert.deepEqual(crashes.map((e) => e.args?.source), ["ebpf"]);
  },
});

Deno.test({
  name:
    "wrapp run under strace -f with [debug] runs the service unheld instead of leaving it stopped",
  ignore,
  async fn() {
    assert.ok(isRoot, "the hold is for root's crash watcher (CI runs as root)");
    await using dir = await tempDir();
    await Deno.writeTextFile(
      `${dir.path}/svc.toml`,
      `[app]
executable = "/bin/echo"
args = ["hi"]
stream_name = "debugged"
stop_grace = "1s"
[output]
echo = false
[debug]
enabled = true
port = ${freePort()}
[local]
dir = "${dir.path}/traces"
`,
    );
    // A held start resumed before its own SIGSTOP stays stopped for good under strace: the
    // timeout then ends wrapp (which kills the service), so the test fails instead of hanging.
    const output = await new Deno.Command("strace", {
      args: ["-f", "-o", "/dev/null", "timeout", "60", Deno.execPath(), "run", "-A", "--quiet"]
        .concat([MAIN, "run", `${dir.path}/svc.toml`]),
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(
      stderr,
      /^wrapp: wrapp is traced by pid \d+: debugged starts without being held before its exec, .*, and \[debug\] cannot hold it for gdbserver$/m,
    );
    assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), ["hi"]);
  },
});
