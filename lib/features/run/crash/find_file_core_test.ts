// findFileCore(), through findCore() with a plain-file core_pattern.
import assert from "node:assert/strict";
import { findCore, type FindCoreOptions } from "./find_core.ts";
import { crashed, quick, tempDir } from "./_find_core_test_helpers.ts";

// Under qemu (the aarch64 lane sets WRAPP_TEST_EMULATED) polls come ~40x later: a core that
// is complete must not be judged still growing for want of time.
const patient: FindCoreOptions = Deno.env.get("WRAPP_TEST_EMULATED") === "1"
  ? { ...quick, timeoutMs: 30_000, fileGraceMs: 3000 }
  : quick;

Deno.test("findCore() finds a plain-file core named by %e %p %t", async () => {
  await using dir = await tempDir();
  const core = `${dir.path}/core.svc.4242.1700000000`;
  await Deno.writeFile(core, new Uint8Array(8192));
  await Deno.writeFile(`${dir.path}/core.svc.4243.1700000000`, new Uint8Array(1));
  const lookup = await findCore(crashed(dir.path), {
    ...patient,
    settings: { pattern: `${dir.path}/core.%e.%p.%t`, usesPid: false },
  });
  assert.ok(lookup.found, !lookup.found ? lookup.reason : "");
  assert.equal(lookup.path, core);
  assert.equal(lookup.size, 8192);
  assert.equal(lookup.via, "file");
  assert.equal(lookup.temporary, false);
  assert.equal(lookup.incomplete, false);
});

Deno.test("findCore() resolves a relative pattern against the process's working directory", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/work`);
  await Deno.writeFile(`${dir.path}/work/core.4242`, new Uint8Array(10));
  const lookup = await findCore(crashed(`${dir.path}/work`), {
    ...quick,
    settings: { pattern: "core", usesPid: true },
  });
  assert.ok(lookup.found);
  assert.equal(lookup.path, `${dir.path}/work/core.4242`);
});

Deno.test("findCore() ignores a core left by an earlier run under the same name", async () => {
  await using dir = await tempDir();
  const old = `${dir.path}/core`;
  await Deno.writeFile(old, new Uint8Array(10));
  const hourAgo = new Date(Date.now() - 3600_000);
  await Deno.utime(old, hourAgo, hourAgo);
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    settings: { pattern: "core", usesPid: false },
  });
  assert.equal(lookup.found, false);
  assert.match(!lookup.found ? lookup.reason : "", /^no core: no file matches ".*\/core"/);
});

Deno.test("findCore() waits until a core that is still being written stops growing", async () => {
  await using dir = await tempDir();
  const core = `${dir.path}/core.4242`;
  const file = await Deno.open(core, { write: true, create: true });
  let writes = 0;
  const writer = setInterval(() => {
    file.writeSync(new Uint8Array(1000));
    if (++writes === 8) {
      clearInterval(writer);
      file.close();
    }
  }, 40);
  // The writer pauses 40 ms between writes; the settle window is far longer than that even
  // when qemu or a busy machine holds the event loop (150 ms once saw no write at all).
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    timeoutMs: 20_000,
    settleMs: 1500,
    settings: { pattern: `${dir.path}/core.%p`, usesPid: false },
  });
  assert.ok(lookup.found);
  assert.equal(lookup.size, 8000);
  assert.equal(lookup.incomplete, false);
});

Deno.test("findCore() answers at once when the pattern's folder does not exist", async () => {
  await using dir = await tempDir();
  const lookup = await findCore(crashed(dir.path), {
    timeoutMs: 10_000,
    settings: { pattern: `${dir.path}/nope/core.%p`, usesPid: false },
  });
  assert.equal(
    !lookup.found && lookup.reason,
    `no core: the folder "${dir.path}/nope" of core_pattern "${dir.path}/nope/core.%p" does not exist; create it`,
  );
  assert.ok(lookup.waitedMs < 500);
});

Deno.test("findCore() gives up on a missing plain-file core after the grace period", async () => {
  await using dir = await tempDir();
  const lookup = await findCore(crashed(dir.path, { coreLimit: undefined }), {
    ...quick,
    settings: { pattern: `${dir.path}/core.%e.%p.%t`, usesPid: false },
  });
  assert.equal(lookup.found, false);
  const reason = !lookup.found ? lookup.reason : "";
  assert.ok(
    reason.startsWith(`no core: no file matches "${dir.path}/core.svc.4242.*"`),
    reason,
  );
  assert.match(reason, /RLIMIT_CORE of the service may be 0/);
  assert.ok(lookup.waitedMs >= 300 && lookup.waitedMs < 1500, String(lookup.waitedMs));
});

Deno.test("findCore() still finds the core of a program that raised its own RLIMIT_CORE", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/core.4242`, new Uint8Array(4096));
  const lookup = await findCore(crashed(dir.path, { coreLimit: 0 }), {
    ...quick,
    settings: { pattern: `${dir.path}/core.%p`, usesPid: false },
  });
  assert.ok(lookup.found, !lookup.found ? lookup.reason : "");
  assert.equal(lookup.path, `${dir.path}/core.4242`);
});
