import assert from "node:assert/strict";
import { SinkError } from "../errors.ts";
import { claimSpool } from "./spool_owner.ts";

Deno.test("claimSpool() refuses a folder a live process holds, and takes over a stale one", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
    const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    await Deno.writeTextFile(`${dir}/owner`, `${child.pid} ${started}\n`);
    await assert.rejects(
      claimSpool(dir),
      (error: unknown) =>
        error instanceof SinkError &&
        error.message ===
          `Cannot use spool "${dir}": wrapp pid ${child.pid} is using it (two wrapps for the same service name? give each its own spool folder: [redis] spool_dir)`,
    );
    // The same pid with another start time is a reused pid: stale.
    await Deno.writeTextFile(`${dir}/owner`, `${child.pid} 1\n`);
    const release = await claimSpool(dir);
    assert.match(await Deno.readTextFile(`${dir}/owner`), new RegExp(`^${Deno.pid} \\d+\\n$`));
    const again = await claimSpool(dir); // this process reopening it
    await release();
    await again();
    await assert.rejects(Deno.stat(`${dir}/owner`), Deno.errors.NotFound);
  } finally {
    child.kill();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
