import assert from "node:assert/strict";
import { readMounts } from "./mounts.ts";

Deno.test("readMounts() lists the filesystems, escaped spaces decoded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/mounts`,
      "proc /proc proc rw 0 0\nnodev /sys/kernel/tracing tracefs rw 0 0\n/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n",
    );
    assert.deepEqual(await readMounts(`${dir}/mounts`), [
      { device: "proc", dir: "/proc", type: "proc" },
      { device: "nodev", dir: "/sys/kernel/tracing", type: "tracefs" },
      { device: "/dev/sdb1", dir: "/mnt/my disk", type: "ext4" },
    ]);
    assert.ok((await readMounts()).some((m) => m.dir === "/"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
