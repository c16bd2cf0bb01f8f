import assert from "node:assert/strict";
import {
  bootTimeMs,
  parseProcStat,
  processTitle,
  readChildren,
  readProcessTitle,
  readProcStat,
  readThreads,
  runsExecutable,
  settledTitle,
  waitForExec,
} from "./process_tree.ts";
import { spawnStopped } from "../../pipeline/sources/spawn_stopped.ts";

Deno.test("parseProcStat() reads state, parent and start time, whatever the name holds", () => {
  // Fields 3 (state), 4 (ppid), 5 to 21, 22 (starttime), 23.
  const fields = ["S", "17", ...Array(17).fill("0"), "98765", "5"].join(" ");
  assert.deepEqual(parseProcStat(`4242 (a (b) c) ${fields}`), {
    comm: "a (b) c",
    state: "S",
    ppid: 17,
    startTicks: 98765,
  });
  assert.equal(parseProcStat("garbage"), undefined);
});

Deno.test("processTitle() shortens the program path and keeps titles set by servers", () => {
  assert.equal(
    processTitle("/usr/bin/redis-server\x00127.0.0.1:6379\x00", "redis-server"),
    "redis-server 127.0.0.1:6379",
  );
  assert.equal(
    processTitle("nginx: worker process\x00\x00\x00\x00", "nginx"),
    "nginx: worker process",
  );
  assert.equal(
    processTitle("postgres: checkpointer \x00", "postgres"),
    "postgres: checkpointer",
  );
  assert.equal(
    processTitle("/usr/bin/redis-server 127.0.0.1:6379\x00\x00", "redis-server"),
    "redis-server 127.0.0.1:6379",
  );
  assert.equal(processTitle("", "kworker/0:1"), "kworker/0:1");
  assert.equal(processTitle("/bin/x\x00" + "a".repeat(100), "x", 20), "x " + "a".repeat(17) + "…");
});

Deno.test("settledTitle() keeps the last title, or what a changing title keeps", () => {
  assert.equal(
    settledTitle(["sh -c x", "redis-server --port 1", "redis-server 127.0.0.1:1"]),
    "redis-server 127.0.0.1:1",
  );
  assert.equal(
    settledTitle([
      "postgres -D /data",
      "postgres: postgres postgres [local] idle",
      "postgres: postgres postgres [local] UPDATE",
      "postgres: postgres postgres [local] COMMIT",
    ]),
    "postgres: postgres postgres [local]",
  );
  assert.equal(settledTitle(["a", "x 1", "y 2", "z 3"]), "z 3");
  assert.equal(settledTitle([]), "");
});

Deno.test("the /proc readers see a real child with its threads, title and start", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const stat = await readProcStat(child.pid);
    assert.equal(stat?.comm, "sleep");
    assert.equal(stat?.ppid, Deno.pid);
    assert.ok((await readChildren(Deno.pid)).includes(child.pid));
    assert.deepEqual([...(await readThreads(child.pid)).entries()], [[child.pid, "sleep"]]);
    assert.equal(await readProcessTitle(child.pid), "sleep 30");
    const boot = await bootTimeMs();
    const started = boot + stat!.startTicks * 10;
    assert.ok(Math.abs(started - Date.now()) < 5000, `started ${Date.now() - started} ms ago`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(await readProcStat(child.pid), undefined);
  assert.deepEqual([...(await readThreads(child.pid))], []);
  assert.equal(await readProcessTitle(child.pid), undefined);
});

Deno.test("runsExecutable() recognises a program after exec, retitled or run by an interpreter", () => {
  const exe = "/usr/bin/redis-server";
  assert.equal(runsExecutable(["/usr/bin/redis-server", "--port", "1"], exe), true);
  assert.equal(runsExecutable(["/usr/bin/redis-server 127.0.0.1:1", ""], exe), true);
  assert.equal(runsExecutable(["redis-server", "--port"], exe), true);
  assert.equal(runsExecutable(["/bin/sh", "/tmp/script.sh"], "/tmp/script.sh"), true);
  const launcher = ["/bin/sh", "-c", 'kill -STOP $$ && exec "$@"', "wrapp-trace", exe];
  assert.equal(runsExecutable(launcher, exe), false);
  assert.equal(runsExecutable(["setpriv", "--reuid=101", "--", exe], exe), false);
});

Deno.test("waitForExec() returns once the held launcher became the program", async () => {
  const child = await spawnStopped("sleep", ["30"], { detached: true });
  try {
    assert.equal(await waitForExec(child.pid, child.executable, { timeoutMs: 50 }), false);
    child.resume();
    assert.equal(await waitForExec(child.pid, child.executable), true);
    assert.equal(await readProcessTitle(child.pid), "sleep 30");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(await waitForExec(child.pid, child.executable), false, "gone");
});
