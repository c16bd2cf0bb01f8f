/**
 * The native crash watcher in whole wrapp processes: two wrapps side by side, each with
 * a service that crashes right after its exec and is restarted, get every crash reported
 * with a symbolized eBPF backtrace, while no bpftrace process runs: each wrapp loads its
 * own five programs once, for every restart.
 *
 * Needs root (eBPF): under CI it fails when not root; elsewhere it is skipped.
 */

import assert from "node:assert/strict";
import { compileC, readLatestTrace, SEGV_C, spawnWrapp, tempDir } from "./_helpers.ts";

const isRoot = Deno.uid() === 0;
const ignore = !isRoot && Deno.env.get("CI") !== "true";

/** Parent pid of `pid`, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** bpftrace processes descending from one of `roots`. */
function bpftracesUnder(roots: readonly number[]): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    let comm: string;
    try {
      comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
    } catch {
      continue;
    }
    if (comm !== "bpftrace") continue;
    for (let p = parentOf(pid); p !== undefined && p > 1; p = parentOf(p)) {
      if (roots.includes(p)) found.push(pid);
    }
  }
  return found;
}

/** How many eBPF programs `pid` holds open. */
function programFds(pid: number): number {
  let count = 0;
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`) === "anon_inode:bpf-prog") count++;
      } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return count;
}

Deno.test({
  name: "two wrapps report crashes right after exec with symbolized eBPF stacks, with no bpftrace",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    await compileC(dir.path, "segv", SEGV_C);
    const names = ["first", "second"];
    for (const name of names) {
      await Deno.writeTextFile(
        `${dir.path}/${name}.sh`,
        `#!/bin/sh\nexec prlimit --core=0 -- ${dir.path}/segv\n`,
        { mode: 0o755 },
      );
      await Deno.writeTextFile(
        `${dir.path}/${name}.toml`,
        `[app]
executable = "${dir.path}/${name}.sh"
stream_name = "${name}"
[output]
echo = false
[restart]
policy = "on-failure"
delay = "200ms"
max_restarts = 2
[crash]
core_timeout = "1s"
[local]
dir = "${dir.path}/traces-${name}"
`,
      );
    }
    const wrapps = names.map((name) => spawnWrapp(["run", `${dir.path}/${name}.toml`]));
    const pids = wrapps.map((w) => w.pid);
    const outputs = Promise.all(wrapps.map((w) => w.output()));
    let done = false;
    void outputs.finally(() => done = true);
    const bpftraces = new Set<number>();
    const programs = new Set<number>();
    while (!done) {
      for (const pid of bpftracesUnder(pids)) bpftraces.add(pid);
      for (const pid of pids) programs.add(programFds(pid));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const results = await outputs;
    const decoder = new TextDecoder();
    for (const [i, name] of names.entries()) {
      const stderr = decoder.decode(results[i].stderr);
      assert.equal(results[i].code, 139, stderr);
      assert.doesNotMatch(stderr, /using bpftrace instead/);
      const summaries = stderr.match(
        new RegExp(
          `^wrapp: ${name} \\(pid \\d+\\) crashed with SIGSEGV at crash_here\\(\\) ← level_one\\(\\) ← main\\(\\)`,
          "gm",
        ),
      );
      assert.equal(summaries?.length, 3, stderr);
      const crashes = (await readLatestTrace(`${dir.path}/traces-${name}`))
        .filter((e) => e.cat === "crash");
      assert.deepEqual(crashes.map((e) => e.args?.source), ["ebpf", "ebpf", "ebpf"]);
    }
    assert.deepEqual([...bpftraces], [], "no bpftrace process under either wrapp");
    // Each wrapp held one set of five programs at most (fewer while loading or closing),
    // whatever the restarts: four on tracepoints, one on the dynamic loader.
    assert.equal(Math.max(...programs), 5, [...programs].join(" "));
  },
});

Deno.test({
  name:
    "wrapp says in one line why the native crash watcher cannot load and falls back to bpftrace",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    await Deno.writeTextFile(
      `${dir.path}/svc.toml`,
      `[app]\nexecutable = "/bin/true"\n[output]\necho = false\n[local]\nenabled = false\n`,
    );
    // Root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: bpf() refuses the maps.
    const output = await new Deno.Command("setpriv", {
      args: [
        "--bounding-set=-bpf,-perfmon,-sys_admin",
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        new URL("../main.ts", import.meta.url).pathname,
        "run",
        `${dir.path}/svc.toml`,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(
      stderr,
      /^wrapp: the native crash watcher cannot load \(bpf\(BPF_MAP_CREATE\) failed: EPERM \(operation not permitted\)\); using bpftrace instead$/m,
    );
  },
});
