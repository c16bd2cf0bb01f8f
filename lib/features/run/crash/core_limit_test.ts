import assert from "node:assert/strict";
import {
  coreLimitPrefix,
  formatLimit,
  hasCapability,
  parseCoreLimit,
  readCoreLimit,
} from "./core_limit.ts";

/** `ulimit -S -c` and `ulimit -H -c` of a bash started through `prefix`. */
async function limitsThrough(prefix: string[]): Promise<string> {
  const [program, ...args] = [...prefix, "/bin/bash", "-c", "echo $(ulimit -S -c) $(ulimit -H -c)"];
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return new TextDecoder().decode(output.stdout).trim();
}

const root = Deno.uid() === 0;

Deno.test("coreLimitPrefix() starts a child whose ulimit -c is unlimited", async () => {
  const plan = await coreLimitPrefix({ current: { soft: 0, hard: Infinity } });
  assert.match(plan.prefix[0], /\/prlimit$/);
  assert.equal(plan.limit.soft, Infinity);
  assert.equal(await limitsThrough(plan.prefix), "unlimited unlimited");
});

Deno.test("coreLimitPrefix() keeps the pid: prlimit execs the command", async () => {
  const plan = await coreLimitPrefix({ current: { soft: 0, hard: Infinity } });
  const [program, ...args] = [...plan.prefix, "/bin/bash", "-c", "echo $$"];
  const child = new Deno.Command(program, { args, stdout: "piped" }).spawn();
  const output = await child.output();
  assert.equal(new TextDecoder().decode(output.stdout).trim(), String(child.pid));
});

Deno.test("coreLimitPrefix() without CAP_SYS_RESOURCE raises only the soft limit", async () => {
  const plan = await coreLimitPrefix({
    current: { soft: 0, hard: 1 << 20 },
    canRaiseHard: false,
  });
  assert.deepEqual(plan.prefix.slice(1), ["--core=1048576:", "--"]);
  assert.deepEqual(plan.limit, { soft: 1 << 20, hard: 1 << 20 });
  // ulimit counts 1024-byte blocks; the hard limit is wrapp's own (unlimited here).
  assert.match(await limitsThrough(plan.prefix), /^1024 /);
});

Deno.test("coreLimitPrefix() falls back to sh when prlimit is missing", async () => {
  const plan = await coreLimitPrefix({
    current: { soft: 0, hard: Infinity },
    canRaiseHard: root,
    prlimit: false,
  });
  assert.equal(plan.prefix[0], "/bin/sh");
  assert.equal(await limitsThrough(plan.prefix), "unlimited unlimited");
});

Deno.test("coreLimitPrefix() says why when the hard limit is 0 and cannot be raised", async () => {
  const plan = await coreLimitPrefix({ current: { soft: 0, hard: 0 }, canRaiseHard: false });
  assert.deepEqual(plan.prefix, []);
  assert.match(plan.warning ?? "", /^Cannot raise RLIMIT_CORE of the service: its hard limit is 0/);
});

Deno.test("parseCoreLimit() reads the core line of /proc/PID/limits", () => {
  const text = [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max file size             unlimited            unlimited            bytes     ",
    "Max core file size        0                    unlimited            bytes     ",
  ].join("\n");
  assert.deepEqual(parseCoreLimit(text), { soft: 0, hard: Infinity });
  assert.equal(parseCoreLimit("Max file size 1 2"), undefined);
  assert.equal(formatLimit(Infinity), "unlimited");
  assert.equal(formatLimit(4096), "4096");
});

Deno.test("readCoreLimit() reads wrapp's own limit, hasCapability() its capabilities", async () => {
  const own = await readCoreLimit();
  assert.equal(typeof own.soft, "number");
  assert.ok(own.soft <= own.hard);
  assert.deepEqual(await readCoreLimit(2 ** 30), { soft: 0, hard: 0 });
  // Root in a container may lack CAP_SYS_RESOURCE (bit 24), but always has CAP_CHOWN (bit 0).
  if (root) assert.equal(await hasCapability(0n), true);
  assert.equal(typeof await hasCapability(24n), "boolean");
});
