import assert from "node:assert/strict";
import { SpawnError } from "../../core/errors.ts";
import { customAppName, customPlan } from "./custom_workload.ts";
import { describeWorkloads, WORKLOADS } from "./workloads.ts";
import type { Workload } from "./workload.ts";

const FAKE: Workload = {
  name: "fake",
  description: "a fake server loaded by a fake client",
  needs: [
    { program: "wrapp-fake-server", package: "fake-server" },
    [{ program: "wrapp-fake-wrk", package: "wrk" }, {
      program: "wrapp-fake-curl",
      package: "curl",
    }],
  ],
  plan: () => Promise.reject(new Error("not used")),
};

Deno.test("describeWorkloads() says, per program, where it is or what to install", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-list-" });
  try {
    const missing = await describeWorkloads([FAKE], { path: dir });
    assert.equal(
      missing,
      [
        "Built-in workloads (sudo wrapp record NAME):",
        "",
        "fake  a fake server loaded by a fake client",
        "      ✗ wrapp-fake-server                 not installed: apt-get install fake-server",
        "      ✗ wrapp-fake-wrk / wrapp-fake-curl  not installed: apt-get install wrk or curl",
        "",
        'Any other command: sudo wrapp record --custom "COMMAND ARGS" [--duration TIME]',
      ].join("\n"),
    );
    for (const name of ["wrapp-fake-server", "wrapp-fake-curl"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "#!/bin/sh\n", { mode: 0o755 });
    }
    const found = await describeWorkloads([FAKE], { path: dir });
    assert.ok(
      found.includes(`✓ wrapp-fake-server                 ${dir}/wrapp-fake-server\n`),
      found,
    );
    assert.ok(
      found.includes(
        `✓ wrapp-fake-curl                   ${dir}/wrapp-fake-curl (instead of wrapp-fake-wrk: apt-get install wrk)`,
      ),
      found,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the built-in workloads name a Debian package for every program", () => {
  assert.deepEqual(Object.keys(WORKLOADS), ["redis", "nginx", "postgresql"]);
  for (const workload of Object.values(WORKLOADS)) {
    assert.equal(workload.needs.length > 0, true);
    for (const need of workload.needs) {
      for (const spec of Array.isArray(need) ? need : [need]) {
        assert.match(spec.package, /^[a-z0-9.+-]+$/, `${workload.name}: ${spec.program}`);
      }
    }
  }
});

Deno.test("customPlan() resolves the program and stops the whole group with SIGTERM", async () => {
  const plan = await customPlan(["sh", "-c", "sleep 1"]);
  assert.match(plan.app.command[0], /\/sh$/);
  assert.deepEqual(plan.app.command.slice(1), ["-c", "sleep 1"]);
  assert.equal(plan.app.stopSignal, "SIGTERM");
  assert.equal(plan.app.signalGroup, true);
  assert.equal(plan.load, undefined);
  await assert.rejects(
    customPlan(["wrapp-no-such-program"]),
    (e: unknown) =>
      e instanceof SpawnError && e.exitCode === 127 &&
      e.message === 'Cannot record "wrapp-no-such-program": not found in PATH',
  );
  await assert.rejects(customPlan(["./nope/prog"]), {
    message: 'Cannot record "./nope/prog": no executable file there',
  });
});

Deno.test("customAppName() makes a folder-safe name from the program", () => {
  assert.equal(customAppName("/usr/local/bin/my-app"), "my-app");
  assert.equal(customAppName("./weird name$"), "weird_name_");
  assert.equal(customAppName(".hidden"), "hidden");
  assert.equal(customAppName("..."), "custom");
});
