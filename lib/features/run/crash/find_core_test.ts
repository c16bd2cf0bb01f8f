import assert from "node:assert/strict";
import {
  apportName,
  type CrashedProcess,
  findCore,
  type FindCoreOptions,
  globComponents,
  parseCoredumpList,
} from "./find_core.ts";
import { corePathMatchers, expandCorePattern } from "./core_pattern.ts";

/** A temporary folder removed when disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "wrapp-find-core-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function crashed(dir: string, extra: Partial<CrashedProcess> = {}): CrashedProcess {
  return {
    pid: 4242,
    uid: 0,
    gid: 0,
    executable: `${dir}/svc`,
    cwd: dir,
    signal: "SIGSEGV",
    crashTime: Date.now(),
    startTime: Date.now() - 1000,
    coreLimit: Infinity,
    ...extra,
  };
}

const quick: FindCoreOptions = { timeoutMs: 2000, fileGraceMs: 300, settleMs: 50, pollMs: 20 };
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
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    settleMs: 150,
    settings: { pattern: `${dir.path}/core.%p`, usesPid: false },
  });
  assert.ok(lookup.found);
  assert.equal(lookup.size, 8000);
  assert.equal(lookup.incomplete, false);
});

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

/** A fake coredumpctl: `list` fails `failures` times, then prints `row`; `dump -o F` writes F. */
async function fakeCoredumpctl(dir: string, row: Record<string, unknown>, failures = 0) {
  const path = `${dir}/coredumpctl`;
  await Deno.writeTextFile(
    path,
    `#!/bin/bash
echo "$*" >> ${dir}/calls
n=$(cat ${dir}/count 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/count
for a in "$@"; do case "$a" in list) verb=list;; dump) verb=dump;; esac; done
if [ "$verb" = list ]; then
  if [ "$n" -lt ${failures} ]; then echo "No coredumps found." >&2; exit 1; fi
  echo '[${JSON.stringify(row)}]'
  exit 0
fi
while [ $# -gt 0 ]; do if [ "$1" = -o ]; then head -c 5000 /dev/zero > "$2"; fi; shift; done
`,
    { mode: 0o755 },
  );
  return path;
}

Deno.test("findCore() extracts a core from systemd-coredump once it is recorded", async () => {
  await using dir = await tempDir();
  const coredumpctl = await fakeCoredumpctl(dir.path, {
    time: Date.now() * 1000,
    pid: 4242,
    uid: 0,
    gid: 0,
    sig: 11,
    corefile: "present",
    exe: "/usr/bin/svc",
    size: 5000,
  }, 2);
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl,
    extractDir: dir.path,
    settings: {
      pattern: "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
      usesPid: false,
    },
  });
  assert.ok(lookup.found, !lookup.found ? lookup.reason : "");
  assert.equal(lookup.via, "systemd-coredump");
  assert.equal(lookup.path, `${dir.path}/core.svc.4242`);
  assert.equal(lookup.size, 5000);
  assert.equal(lookup.description, "systemd-coredump (coredumpctl dump 4242)");
  const calls = (await Deno.readTextFile(`${dir.path}/calls`)).trim().split("\n");
  assert.equal(calls.length, 4, "three lists, then a dump");
  assert.match(calls[0], /^--no-pager --json=short --since=@\d+ list 4242$/);
  assert.match(calls[3], /-o .*core\.svc\.4242 dump 4242$/);
});

Deno.test("findCore() says when systemd-coredump kept no core", async () => {
  await using dir = await tempDir();
  const coredumpctl = await fakeCoredumpctl(dir.path, {
    time: Date.now() * 1000,
    pid: 4242,
    corefile: "none",
  });
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl,
    settings: { pattern: "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", usesPid: false },
  });
  assert.match(
    !lookup.found ? lookup.reason : "",
    /^no core: systemd-coredump recorded the crash of pid 4242 but kept no core \(corefile "none"/,
  );
  const missing = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl: `${dir.path}/not-installed`,
    settings: { pattern: "|/lib/systemd/systemd-coredump %P", usesPid: false },
  });
  assert.match(!missing.found ? missing.reason : "", /is not installed/);
});

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

Deno.test("parseCoredumpList() reads a JSON array and one object per line", () => {
  const row = { time: 1, pid: 5, corefile: "present" };
  assert.deepEqual(parseCoredumpList(JSON.stringify([row, { pid: "x" }])), [row]);
  assert.deepEqual(parseCoredumpList(`${JSON.stringify(row)}\n${JSON.stringify(row)},\n`), [
    row,
    row,
  ]);
  assert.deepEqual(parseCoredumpList(""), []);
});

Deno.test("globComponents() walks folders matching wildcards", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/host-a`);
  await Deno.mkdir(`${dir.path}/host-b`);
  await Deno.writeTextFile(`${dir.path}/host-a/core.7`, "");
  await Deno.writeTextFile(`${dir.path}/host-b/core.7`, "");
  await Deno.writeTextFile(`${dir.path}/host-b/core.8`, "");
  const pieces = expandCorePattern(`${dir.path}/%h/core.%p`, { pid: 7 });
  const found = await globComponents(corePathMatchers(pieces, "/"));
  assert.deepEqual(found.sort(), [`${dir.path}/host-a/core.7`, `${dir.path}/host-b/core.7`]);
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
