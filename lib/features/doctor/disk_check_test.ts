import assert from "node:assert/strict";
import { formatBytes } from "../../core/config/parse_size.ts";
import { diskResult, freeDiskSpace, parseDfOutput, spoolTarget } from "./disk_check.ts";

Deno.test("diskResult(): enough, less than the spool may take, or nearly full", () => {
  const target = { dir: "/var/lib/wrapp/robot/spool", what: "the spool", limitBytes: 256 << 20 };
  const space = (availableBytes: number) => ({
    checked: "/var/lib/wrapp",
    mount: "/",
    availableBytes,
    totalBytes: 64 * 2 ** 30,
  });
  assert.deepEqual(diskResult(target, space(10 * 2 ** 30)), {
    check: "disk",
    status: "ok",
    message: "10.0 GiB free on / for the spool (/var/lib/wrapp/robot/spool, up to 256 MiB)",
  });
  const low = diskResult(target, space(100 << 20));
  assert.equal(low.status, "warning");
  assert.match(low.message, /^only 100 MiB free on \/ .*the disk fills before the limit/);
  assert.match(low.fix!, /spool_max_bytes/);
  assert.equal(diskResult(target, space(1 << 20)).status, "missing");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
});

Deno.test("spoolTarget(): the config's spool, its trace folder, or the state folder", () => {
  assert.deepEqual(spoolTarget(undefined, { uid: 0 }), {
    dir: "/var/lib/wrapp",
    what: "spools and traces",
    limitBytes: 256 << 20,
  });
  assert.equal(
    spoolTarget(undefined, { uid: 1000, env: (n) => n === "HOME" ? "/home/u" : undefined })?.dir,
    "/home/u/.local/state/wrapp",
  );
  assert.equal(spoolTarget(undefined, { uid: 1000, env: () => undefined }), undefined);
});

Deno.test("parseDfOutput() reads df -P -k, mount points with spaces included", () => {
  const text = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n" +
    "/dev/vda         263174212 25212340 224507676      11% /\n";
  assert.deepEqual(parseDfOutput(text), {
    totalBytes: 263174212 * 1024,
    availableBytes: 224507676 * 1024,
    mount: "/",
  });
  assert.equal(
    parseDfOutput(
      "Filesystem 1024-blocks Used Available Capacity Mounted on\nx 10 5 5 50% /mnt/my disk\n",
    )
      ?.mount,
    "/mnt/my disk",
  );
  assert.equal(parseDfOutput("df: nothing\n"), undefined);
});

Deno.test("freeDiskSpace() checks the nearest existing folder of a path not made yet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const space = await freeDiskSpace(`${dir}/not/yet/there`);
    assert.equal(space.checked, dir);
    assert.ok(space.availableBytes > 0 && space.totalBytes >= space.availableBytes);
    assert.match(space.mount, /^\//);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
