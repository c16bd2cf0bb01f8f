/**
 * The bundle the binary embeds (.ci/bundle.ts) runs as wrapp does from source: the
 * chunks each command loads on demand are found, and the texts bundled in (bpftrace
 * programs, deno.json's version) are there.
 */

import assert from "node:assert/strict";
import { bundleWrapp } from "../.ci/bundle.ts";
import { VERSION } from "../lib/core/version.ts";
import { runWrapp, tempDir, type WrappOutput, writeScript } from "./_helpers.ts";
import { startRedis, streamMessages, writeRedisConfig } from "./_redis.ts";

/** Run `deno run -A --no-config <bundle>/main.js ARGS…` from the repository, as the binary runs it: without deno.json. */
function runBundle(bundleDir: string, args: string[]): Promise<WrappOutput> {
  return runWrapp(args, { entry: `${bundleDir}/main.js`, denoFlags: ["--no-config"] });
}

Deno.test("the bundle runs wrapp: --version, check, and run into Redis and a local trace", async (t) => {
  await using dir = await tempDir();
  const bundleDir = `${dir.path}/bundle`;
  const files = await bundleWrapp(bundleDir);
  assert.ok(files.length > 2, `main.js and its chunks, got ${files.join(", ")}`);

  await t.step("--version prints deno.json's version", async () => {
    const result = await runBundle(bundleDir, ["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `wrapp ${VERSION}`);
  });

  await t.step("check loads the config code", async () => {
    const result = await runBundle(bundleDir, ["check", "examples/hello.toml"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /executable/);
  });

  await t.step(
    "run streams the lines into Redis and the trace, and keeps the exit code",
    async () => {
      await using redis = await startRedis();
      const script = await writeScript(dir.path, "svc.sh", `echo one; echo two >&2; exit 3`);
      const config = await writeRedisConfig(dir.path, {
        executable: script,
        port: redis.port,
        name: "bundled",
      });
      await Deno.writeTextFile(
        config,
        `${await Deno.readTextFile(config)}\n[local]\nenabled = true\ndir = ${
          JSON.stringify(`${dir.path}/traces`)
        }\n`,
      );
      const result = await runBundle(bundleDir, ["run", config]);
      assert.equal(result.code, 3, result.stderr);
      const logs = await redis.client(1);
      const messages = [
        ...await streamMessages(logs, "logs:app:bundled:info"),
        ...await streamMessages(logs, "logs:app:bundled:error"),
      ];
      assert.ok(messages.includes("one"), `"one" in ${JSON.stringify(messages)}`);
      assert.ok(messages.includes("two"), `"two" in ${JSON.stringify(messages)}`);
      const trace = await Deno.readTextFile(`${dir.path}/traces/latest/trace.json`);
      assert.match(trace, /"text":"one"/);
    },
  );
});
