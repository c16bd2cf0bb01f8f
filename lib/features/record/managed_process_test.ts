import assert from "node:assert/strict";
import { SpawnError } from "../../core/errors.ts";
import { processState, spawnStopped } from "../../pipeline/sources/spawn_stopped.ts";
import { manageStopped, startProcess } from "./managed_process.ts";
import { OutputLog } from "./output_log.ts";

async function alive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== "Z";
}

Deno.test("startProcess() logs the output and stop() ends the whole group", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-managed-" });
  try {
    const log = await OutputLog.open(`${dir}/out.log`);
    // The shell ignores SIGTERM; its child sleeps: only the group SIGKILL ends both.
    const process = await startProcess("stubborn", {
      command: ["sh", "-c", "trap '' TERM; echo started; sleep 60 & echo $! > child; wait"],
      cwd: dir,
    }, { log });
    for (let i = 0; i < 200 && !log.text.includes("started"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    let child = 0;
    for (let i = 0; i < 200 && !child; i++) {
      child = Number(await Deno.readTextFile(`${dir}/child`).catch(() => "0"));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(await alive(child));
    const started = Date.now();
    const status = await process.stop("SIGTERM", { graceMs: 200 });
    assert.deepEqual(status, { signal: "SIGKILL" });
    assert.ok(Date.now() - started >= 190);
    assert.ok((process.exited()?.time ?? 0) > 0);
    for (let i = 0; i < 100 && await alive(child); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(await alive(child), false, "the child in the group is gone too");
    await log.close();
    assert.equal(await Deno.readTextFile(`${dir}/out.log`), "started\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process that stops on its signal is not killed", async () => {
  const process = await startProcess("sleeper", { command: ["sleep", "60"] });
  assert.deepEqual(await process.stop("SIGTERM", { graceMs: 5000 }), { signal: "SIGTERM" });
  assert.equal(process.signal("SIGTERM"), false, "gone");
});

Deno.test("startProcess() reports a program that cannot start", async () => {
  await assert.rejects(
    startProcess("tool", { command: ["/nonexistent/wrapp-tool"] }),
    (e: unknown) =>
      e instanceof SpawnError &&
      e.message === 'Cannot start tool ("/nonexistent/wrapp-tool"): no such file or directory',
  );
});

Deno.test("spawnStopped(detached, piped) gives a group leader whose output can be logged", async () => {
  const child = await spawnStopped("sh", ["-c", "echo hi; sleep 60"], {
    detached: true,
    output: "piped",
  });
  const process = manageStopped("sh", child);
  const chunks: string[] = [];
  const reading = (async () => {
    for await (const chunk of child.stdout!) chunks.push(new TextDecoder().decode(chunk));
  })();
  child.resume();
  child.stderr!.cancel();
  for (let i = 0; i < 200 && chunks.join("") !== "hi\n"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(chunks.join(""), "hi\n");
  process.killGroup();
  assert.deepEqual(await process.status, { signal: "SIGKILL" });
  await reading;
});
