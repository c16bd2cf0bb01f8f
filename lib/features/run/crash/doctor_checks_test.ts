import assert from "node:assert/strict";
import { checkCoreDumps } from "./doctor_checks.ts";

const unlimited = { soft: Infinity, hard: Infinity };

Deno.test("checkCoreDumps() accepts a file pattern whose folder exists and is writable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-doctor-" });
  try {
    const check = await checkCoreDumps({
      settings: { pattern: `${dir}/core.%e.%p.%t`, usesPid: false },
      limit: unlimited,
    });
    assert.deepEqual(check, {
      ok: true,
      message:
        `core_pattern "${dir}/core.%e.%p.%t"; cores are files in "${dir}", which exists and is writable; RLIMIT_CORE of wrapp is unlimited (hard unlimited), inherited by services`,
    });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the write probe is removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkCoreDumps() fails when the pattern's folder is missing", async () => {
  const check = await checkCoreDumps({
    settings: { pattern: "/nonexistent/wrapp/core.%p", usesPid: false },
    limit: unlimited,
  });
  assert.equal(check.ok, false);
  assert.match(check.message, /the folder "\/nonexistent\/wrapp" does not exist; create it/);
});

Deno.test("checkCoreDumps() says when core_pattern discards cores", async () => {
  for (const pattern of ["|/bin/false", "", "/dev/null"]) {
    const check = await checkCoreDumps({ settings: { pattern, usesPid: false }, limit: unlimited });
    assert.equal(check.ok, false, pattern);
    assert.match(check.message, /every core is discarded/);
  }
  const abrt = await checkCoreDumps({
    settings: { pattern: "|/usr/libexec/abrt-hook-ccpp %s", usesPid: false },
  });
  assert.equal(abrt.ok, false);
  assert.match(abrt.message, /which wrapp cannot read back/);
});

Deno.test("checkCoreDumps() explains an RLIMIT_CORE of 0 and how to raise it", async () => {
  const settings = { pattern: "core", usesPid: true };
  const zero = { soft: 0, hard: Infinity };
  const unknown = await checkCoreDumps({ settings, limit: zero });
  assert.equal(unknown.ok, true);
  assert.equal(
    unknown.message,
    `core_pattern "core"; cores are files in the service's working directory, core_uses_pid 1, which the service's user must be able to write; RLIMIT_CORE of wrapp is 0 (hard unlimited), so services write no core unless [crash] core_dumps = true`,
  );
  assert.equal((await checkCoreDumps({ settings, limit: zero, coreDumps: false })).ok, false);
  assert.match(
    (await checkCoreDumps({ settings, limit: zero, coreDumps: true })).message,
    /\[crash\] core_dumps = true raises it for the service$/,
  );
});

Deno.test("checkCoreDumps() checks coredumpctl and Storage= for systemd-coredump", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-doctor-" });
  try {
    const settings = {
      pattern: "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
      usesPid: false,
    };
    const missing = await checkCoreDumps({
      settings,
      limit: unlimited,
      coredumpctl: `${dir}/nope`,
    });
    assert.equal(missing.ok, false);
    assert.match(missing.message, /coredumpctl is missing/);

    const fake = `${dir}/coredumpctl`;
    await Deno.writeTextFile(fake, "#!/bin/sh\necho 'systemd 252 (252.22-1~deb12u1)'\n", {
      mode: 0o755,
    });
    await Deno.mkdir(`${dir}/etc/coredump.conf.d`, { recursive: true });
    await Deno.writeTextFile(`${dir}/etc/coredump.conf`, "[Coredump]\n#Storage=external\n");
    const fine = await checkCoreDumps({
      settings,
      limit: unlimited,
      coredumpctl: fake,
      systemdConfigDir: `${dir}/etc`,
    });
    assert.equal(fine.ok, true);
    assert.match(fine.message, /systemd-coredump \(Storage=external\), read with systemd 252/);

    await Deno.writeTextFile(
      `${dir}/etc/coredump.conf.d/50-off.conf`,
      "[Coredump]\nStorage=none\n",
    );
    const off = await checkCoreDumps({
      settings,
      limit: unlimited,
      coredumpctl: fake,
      systemdConfigDir: `${dir}/etc`,
    });
    assert.equal(off.ok, false);
    assert.match(off.message, /Storage=none/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkCoreDumps() checks apport's helper", async () => {
  const check = await checkCoreDumps({
    settings: { pattern: "|/nonexistent/apport -p%p -- %E", usesPid: false },
    limit: unlimited,
  });
  assert.equal(check.ok, false);
  assert.match(check.message, /cores go to apport, but "\/nonexistent\/apport" is missing/);
});

Deno.test("checkCoreDumps() reads this machine's settings", async () => {
  const check = await checkCoreDumps();
  assert.equal(typeof check.ok, "boolean");
  assert.match(check.message, /^core_pattern "/);
});
