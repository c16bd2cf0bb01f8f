import assert from "node:assert/strict";
import { findCore } from "./find_core.ts";
import { crashed, tempDir } from "./_find_core_test_helpers.ts";

Deno.test("findCore() answers at once when RLIMIT_CORE of the service was 0", async () => {
  await using dir = await tempDir();
  const started = performance.now();
  const lookup = await findCore(crashed(dir.path, { coreLimit: 0 }), {
    timeoutMs: 10_000,
    settings: { pattern: "|/usr/share/apport/apport -p%p -s%s -c%c -- %E", usesPid: false },
  });
  assert.ok(performance.now() - started < 500);
  assert.equal(lookup.found, false);
  assert.equal(
    !lookup.found && lookup.reason,
    'no core: core_pattern "|/usr/share/apport/apport -p%p -s%s -c%c -- %E" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true',
  );
  const file = await findCore(crashed(dir.path, { coreLimit: 0 }), {
    settings: { pattern: "core", usesPid: false },
  });
  assert.match(!file.found ? file.reason : "", /RLIMIT_CORE of the service was 0/);
});

Deno.test("findCore() explains patterns it cannot read back", async () => {
  await using dir = await tempDir();
  const pipe = await findCore(crashed(dir.path), {
    settings: { pattern: "|/usr/libexec/abrt-hook-ccpp %s %c %p", usesPid: false },
  });
  assert.match(
    !pipe.found ? pipe.reason : "",
    /^no core: core_pattern "\|\/usr\/libexec\/abrt-hook-ccpp %s %c %p" hands cores to "\/usr\/libexec\/abrt-hook-ccpp", whose storage wrapp cannot read/,
  );
  const discard = await findCore(crashed(dir.path), {
    settings: { pattern: "|/bin/false", usesPid: false },
  });
  assert.equal(
    !discard.found && discard.reason,
    'no core: core_pattern pipes cores to "/bin/false", so the kernel keeps no core dumps',
  );
});
