import assert from "node:assert/strict";
import { PrivilegeError, SidecarError } from "../../core/errors.ts";
import { assertReady, bpftraceVersion, preflight } from "./preflight.ts";

async function fakeSystem(version: string) {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-preflight-" });
  const bpftrace = `${dir}/bpftrace`;
  await Deno.writeTextFile(bpftrace, `#!/bin/sh\necho "bpftrace ${version}"\n`, { mode: 0o755 });
  const tracing = `${dir}/tracing`;
  await Deno.mkdir(`${tracing}/events/raw_syscalls/sys_enter`, { recursive: true });
  const mounts = `${dir}/mounts`;
  await Deno.writeTextFile(mounts, `proc /proc proc rw 0 0\nnodev ${tracing} tracefs rw 0 0\n`);
  const btf = `${dir}/vmlinux`;
  await Deno.writeTextFile(btf, "");
  return {
    dir,
    options: { bpftrace, mountsFile: mounts, tracefsDir: tracing, btfFile: btf },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("preflight() is happy with root, a recent bpftrace, tracefs and the tracepoints", async () => {
  await using sys = await fakeSystem("v0.17.0");
  const report = await preflight({
    ...sys.options,
    uid: 0,
    tracepoints: ["raw_syscalls:sys_enter"],
  });
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.bpftrace, { path: sys.options.bpftrace, version: "0.17.0" });
  assert.equal(report.tracefs, sys.options.tracefsDir);
  assert.equal(report.btf, true);
  assertReady(report);
});

Deno.test("preflight() says precisely what is missing, and how to get it", async () => {
  await using sys = await fakeSystem("v0.12.1");
  const report = await preflight({
    ...sys.options,
    uid: 1000,
    mountsFile: `${sys.dir}/no-mounts`,
    btfFile: `${sys.dir}/no-btf`,
    needBtf: true,
  });
  assert.deepEqual(report.problems, [
    "wrapp is not root (run it with sudo)",
    `bpftrace 0.12.1 at "${sys.options.bpftrace}" is too old: wrapp needs 0.14.0 or newer`,
    `tracefs is not mounted at ${sys.options.tracefsDir} and wrapp is not root`,
    `the kernel has no BTF (${sys.dir}/no-btf is missing; it needs CONFIG_DEBUG_INFO_BTF=y)`,
  ]);
  assert.throws(
    () => assertReady(report),
    (error: unknown) =>
      error instanceof PrivilegeError && error.exitCode === 77 &&
      error.message.startsWith("Cannot start bpftrace: wrapp is not root (run it with sudo); "),
  );
});

Deno.test("preflight() names a missing bpftrace and a missing tracepoint", async () => {
  await using sys = await fakeSystem("v0.14.0");
  const report = await preflight({
    ...sys.options,
    bpftrace: "wrapp-no-such-bpftrace",
    uid: 0,
    tracepoints: ["raw_syscalls:sys_enter", "raw_syscalls:sys_exit"],
  });
  assert.deepEqual(report.problems, [
    'bpftrace is not installed (no "wrapp-no-such-bpftrace" in PATH): install it with "apt-get install bpftrace", or pass --bpftrace PATH',
    "the kernel has no tracepoint raw_syscalls:sys_exit (a kernel built without CONFIG_FTRACE_SYSCALLS)",
  ]);
  assert.throws(
    () => assertReady(report),
    (e: unknown) => e instanceof SidecarError && e.exitCode === 69,
  );
});

Deno.test("preflight() finds tracefs under a mounted debugfs, and refuses to mount when told not to", async () => {
  await using sys = await fakeSystem("v0.17.0");
  await Deno.writeTextFile(`${sys.dir}/debug-mounts`, "nodev /sys/kernel/debug debugfs rw 0 0\n");
  const viaDebugfs = await preflight({
    ...sys.options,
    uid: 0,
    mountsFile: `${sys.dir}/debug-mounts`,
  });
  assert.equal(viaDebugfs.tracefs, "/sys/kernel/debug/tracing");
  const unmounted = await preflight({
    ...sys.options,
    uid: 0,
    mountsFile: `${sys.dir}/no-mounts`,
    mountTracefs: false,
  });
  assert.deepEqual(unmounted.problems, [
    `tracefs is not mounted at ${sys.options.tracefsDir}: mount it with "mount -t tracefs nodev ${sys.options.tracefsDir}"`,
  ]);
});

Deno.test("bpftraceVersion() reads both version spellings and reports a broken binary", async () => {
  await using sys = await fakeSystem("v0.14.0");
  assert.equal(await bpftraceVersion(sys.options.bpftrace), "0.14.0");
  const broken = `${sys.dir}/broken`;
  await Deno.writeTextFile(broken, "#!/bin/sh\necho oops >&2\nexit 3\n", { mode: 0o755 });
  const result = await bpftraceVersion(broken);
  assert.equal(typeof result, "object");
  assert.match((result as { error: string }).error, /exit code 3/);
});
