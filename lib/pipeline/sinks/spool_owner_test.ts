import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SinkError } from "../../core/errors.ts";
import { claimSpool, isWrappProcess } from "./spool_owner.ts";
import { procStatFields } from "../../core/proc_stat.ts";

function startTime(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return procStatFields(stat)?.[19] ?? "";
}

Deno.test("claimSpool() refuses a folder a live wrapp holds, and takes over a stale one", async () => {
  const dir = await Deno.makeTempDir();
  // A process named like an installed wrapp (its argv[0] is ".../wrapp").
  await Deno.symlink(await Deno.realPath("/bin/sleep"), `${dir}/wrapp`);
  const child = new Deno.Command(`${dir}/wrapp`, { args: ["30"] }).spawn();
  try {
    await Deno.writeTextFile(`${dir}/owner`, `${child.pid} ${startTime(child.pid)}\n`);
    assert.throws(
      () => claimSpool(dir),
      (error: unknown) =>
        error instanceof SinkError &&
        error.message ===
          `Cannot use spool "${dir}": wrapp pid ${child.pid} is using it (two wrapps for the same service name? give each its own spool folder: [redis] spool_dir)`,
    );
    // The same pid with another start time is a reused pid: stale.
    await Deno.writeTextFile(`${dir}/owner`, `${child.pid} 1\n`);
    const release = claimSpool(dir);
    assert.match(await Deno.readTextFile(`${dir}/owner`), new RegExp(`^${Deno.pid} \\d+\\n$`));
    const again = claimSpool(dir); // this process reopening it
    release();
    again();
    await assert.rejects(Deno.stat(`${dir}/owner`), Deno.errors.NotFound);
  } finally {
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("claimSpool() takes over a folder whose owner file names a live process that is no wrapp (pid 1, sleep)", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    for (const pid of [1, child.pid]) {
      // Start time and all: only what the process runs tells it is no wrapp.
      await Deno.writeTextFile(`${dir}/owner`, `${pid} ${startTime(pid)}\n`);
      const release = claimSpool(dir);
      assert.match(await Deno.readTextFile(`${dir}/owner`), new RegExp(`^${Deno.pid} \\d+\\n$`));
      release();
    }
  } finally {
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isWrappProcess() knows a wrapp by its name or its main module, and nothing else", async () => {
  assert.equal(isWrappProcess(1), false);
  assert.equal(isWrappProcess(2 ** 22 + 1), false); // beyond pid_max: gone
  const fake = await Deno.makeTempDir();
  try {
    const proc = (pid: number, args: string[]) => {
      Deno.mkdirSync(`${fake}/${pid}`);
      Deno.writeTextFileSync(`${fake}/${pid}/cmdline`, args.map((a) => `${a}\0`).join(""));
    };
    proc(10, ["/usr/local/bin/wrapp", "run", "/etc/wrapp/robot.toml"]);
    proc(11, ["wrapp-aarch64", "svc.toml"]);
    proc(12, ["/usr/bin/python3", "wrapp.py"]);
    proc(13, []);
    // `deno run …/main.ts`: a process running this program's main module (here, this file).
    proc(14, ["deno", "run", "-A", fileURLToPath(Deno.mainModule), "run", "svc.toml"]);
    assert.equal(isWrappProcess(14, fake), true);
    assert.equal(isWrappProcess(10, fake), true);
    assert.equal(isWrappProcess(11, fake), true);
    assert.equal(isWrappProcess(12, fake), false);
    assert.equal(isWrappProcess(13, fake), false);
  } finally {
    await Deno.remove(fake, { recursive: true });
  }
});
