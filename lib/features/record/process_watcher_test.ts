import assert from "node:assert/strict";
import { now } from "../../core/event.ts";
import { checkPerfettoRules } from "../../pipeline/tef/perfetto_rules.ts";
import { ProcessWatcher } from "./process_watcher.ts";
import { waitForExec } from "./process_tree.ts";
import { RecordingTrace, type TefObject } from "./recording_trace.ts";

Deno.test("ProcessWatcher follows a real process tree: children, names, memory, ends", async () => {
  const started = now();
  const root = new Deno.Command("sh", {
    args: ["-c", "sleep 30 & sleep 31 & wait"],
    detached: true,
  }).spawn();
  const events: TefObject[] = [];
  const trace = new RecordingTrace({ wrappPid: Deno.pid, rootPid: root.pid, arch: "x86_64" });
  // A long interval: the test drives the samples itself.
  const watcher = new ProcessWatcher({
    rootPid: root.pid,
    rootStartTime: started,
    trace,
    emit: (e) => events.push(...e),
    intervalMs: 60_000,
  });
  try {
    let sleepers: number[] = [];
    for (let i = 0; i < 100 && sleepers.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await watcher.sample();
      sleepers = watcher.processes.filter((p) => p.title.startsWith("sleep")).map((p) => p.pid);
    }
    // Titles are read again for a few samples: a fork shows its parent's title at first.
    for (let i = 0; i < 8; i++) await watcher.sample();
    const seen = watcher.processes;
    assert.equal(seen[0].pid, root.pid);
    assert.equal(seen[0].title, "sh -c sleep 30 & sleep 31 & wait");
    assert.deepEqual(seen.slice(1).map((p) => p.title).sort(), ["sleep 30", "sleep 31"]);
    for (const process of seen) {
      assert.ok(process.peakRssKb > 0, JSON.stringify(process));
      assert.equal(process.threads, 1);
      assert.ok(Math.abs(process.startTime! - started) < 3000, JSON.stringify(process));
    }
    assert.ok(watcher.rssKb > 0);

    Deno.kill(sleepers[0], "SIGKILL");
    for (let i = 0; i < 100 && watcher.processes.every((p) => p.endTime === undefined); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await watcher.sample();
    }
    const ended = watcher.processes.find((p) => p.pid === sleepers[0])!;
    assert.ok(ended.endTime !== undefined);
    const lifetime = events.filter((e) => e.name === "lifetime" && e.pid === sleepers[0]);
    assert.deepEqual(lifetime.map((e) => e.ph), ["b", "e"]);
    const memory = events.filter((e) => e.name === "memory kB" && e.pid === root.pid);
    assert.ok(memory.length > 0);
    assert.ok(((memory[0].args as Record<string, number>).rss) > 0);
    assert.deepEqual(checkPerfettoRules([...events, ...trace.finish(now())]), []);
  } finally {
    await watcher.stop();
    Deno.kill(-root.pid, "SIGKILL");
    await root.status;
  }
});

Deno.test("ProcessWatcher keeps the titles it read once keepTitles() is called (an app on its way out)", async () => {
  // A shell that renames itself (exec) after a file appears: the title it had until then stays.
  const dir = await Deno.makeTempDir();
  const root = new Deno.Command("sh", {
    args: ["-c", `while [ ! -e ${dir}/go ]; do sleep 0.02; done; exec sleep 30`],
  }).spawn();
  const trace = new RecordingTrace({ wrappPid: Deno.pid, rootPid: root.pid, arch: "x86_64" });
  const watcher = new ProcessWatcher({
    rootPid: root.pid,
    rootStartTime: now(),
    trace,
    emit: () => {},
    intervalMs: 60_000,
  });
  try {
    // Until the shell's exec is done, /proc shows no command line (the title is then "sh").
    assert.ok(await waitForExec(root.pid, "sh", { timeoutMs: 5000 }), "the shell started");
    await watcher.sample();
    const before = watcher.processes[0].title;
    assert.match(before, /^sh -c while/);
    watcher.keepTitles();
    await Deno.writeTextFile(`${dir}/go`, "");
    for (let i = 0; i < 100; i++) {
      const cmdline = await Deno.readTextFile(`/proc/${root.pid}/cmdline`);
      if (cmdline.startsWith("sleep")) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < 3; i++) await watcher.sample();
    assert.equal(watcher.processes[0].title, before);
  } finally {
    await watcher.stop();
    root.kill("SIGKILL");
    await root.status;
    await Deno.remove(dir, { recursive: true });
  }
});
