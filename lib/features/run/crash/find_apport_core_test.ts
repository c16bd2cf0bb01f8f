// findApportCore(), through findCore() with apport's core_pattern.
import assert from "node:assert/strict";
import { findCore } from "./find_core.ts";
import { apportName } from "./find_apport_core.ts";
import { crashed, quick, tempDir } from "./_find_core_test_helpers.ts";

/** A fake /proc with a boot id, in the initial pid namespace, running no helper. */
async function fakeProc(dir: string): Promise<string> {
  const root = `${dir}/proc`;
  await Deno.mkdir(`${root}/sys/kernel/random`, { recursive: true });
  await Deno.mkdir(`${root}/self`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/sys/kernel/random/boot_id`,
    "0b6c5e07-8f2a-4d8e-9a52-1c3c0e0d4f11\n",
  );
  await Deno.writeTextFile(`${root}/self/status`, "Name:\tdeno\nNSpid:\t99\n");
  return root;
}

Deno.test("findCore() finds apport's core by executable, uid, boot id and pid", async () => {
  await using dir = await tempDir();
  const procRoot = await fakeProc(dir.path);
  await Deno.mkdir(`${dir.path}/apport`);
  const exe = `${dir.path}/svc.bin`;
  await Deno.writeTextFile(exe, "");
  const name = `core.${
    apportName(await Deno.realPath(exe))
  }.0.0b6c5e07-8f2a-4d8e-9a52-1c3c0e0d4f11.4242.889123`;
  await Deno.writeFile(`${dir.path}/apport/${name}`, new Uint8Array(100));
  await Deno.writeFile(
    `${dir.path}/apport/core._other.0.0b6c5e07-8f2a-4d8e-9a52-1c3c0e0d4f11.4242.1`,
    new Uint8Array(1),
  );
  const lookup = await findCore(crashed(dir.path, { executable: exe }), {
    ...quick,
    procRoot,
    apportDir: `${dir.path}/apport`,
    settings: {
      pattern: "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E",
      usesPid: false,
    },
  });
  assert.ok(lookup.found, !lookup.found ? lookup.reason : "");
  assert.equal(lookup.path, `${dir.path}/apport/${name}`);
  assert.equal(lookup.via, "apport");
});

Deno.test("findCore() points at apport's crash report when it wrote no core", async () => {
  await using dir = await tempDir();
  const procRoot = await fakeProc(dir.path);
  await Deno.mkdir(`${dir.path}/crash`);
  const report = `${dir.path}/crash/${apportName(`${dir.path}/svc`)}.0.crash`;
  await Deno.writeTextFile(report, "ProblemType: Crash\n");
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    timeoutMs: 200,
    procRoot,
    apportDir: `${dir.path}/none`,
    apportCrashDir: `${dir.path}/crash`,
    settings: { pattern: "|/usr/share/apport/apport %p %s %c %d %P %E", usesPid: false },
  });
  assert.equal(
    !lookup.found && lookup.reason,
    `no core: apport wrote a crash report "${report}" instead of a core file; "apport-unpack ${report} DIR" extracts its CoreDump`,
  );
});

Deno.test("apportName() replaces slashes and dots like apport", () => {
  assert.equal(apportName("/opt/svc-1.2/bin/svc"), "_opt_svc-1_2_bin_svc");
});
