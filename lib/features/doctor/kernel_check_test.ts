import assert from "node:assert/strict";
import { kernelResult, parseKernelRelease } from "./kernel_check.ts";

Deno.test("kernelResult(): the release, and too old for eBPF below 4.9", () => {
  assert.deepEqual(kernelResult("6.8.0-45-generic", "x86_64"), {
    check: "kernel",
    status: "ok",
    message: "Linux 6.8.0-45-generic (x86_64)",
  });
  assert.equal(kernelResult("5.15.136-tegra", "aarch64").status, "ok");
  const old = kernelResult("4.4.38-tegra", "aarch64");
  assert.equal(old.status, "missing");
  assert.match(old.message, /too old for eBPF tracing: bpftrace needs 4\.9 or newer/);
  assert.equal(kernelResult("weird", "x86_64").status, "warning");
});

Deno.test("parseKernelRelease() reads the version of a release string", () => {
  assert.deepEqual(parseKernelRelease("6.8.0-45-generic"), [6, 8, 0]);
  assert.deepEqual(parseKernelRelease("5.15.136-tegra"), [5, 15, 136]);
  assert.deepEqual(parseKernelRelease("4.9"), [4, 9, 0]);
  assert.equal(parseKernelRelease("unknown"), undefined);
});
