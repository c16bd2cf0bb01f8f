import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import type { Config } from "../../core/config/config.ts";
import { parseConfig } from "../../core/config/load_config.ts";
import { checkGroupConflicts, groupExitCode, ServiceGroup } from "./service_group.ts";

/** A config for `sh -c script`, named `name`, with its trace in `dir` (when given). */
function config(
  name: string,
  script: string,
  options: { dir?: string; local?: boolean; extra?: string; file?: string } = {},
): Config {
  const text = [
    "[app]",
    'executable = "/bin/sh"',
    `args = ["-c", ${JSON.stringify(script)}]`,
    `stream_name = "${name}"`,
    `cwd = "/tmp"`,
    "[crash]",
    "ebpf_backtrace = false",
    "[local]",
    `enabled = ${options.local ?? options.dir !== undefined}`,
    `dir = ${JSON.stringify(options.dir ?? `/tmp/${name}`)}`,
    options.extra ?? "",
  ].join("\n");
  return parseConfig(text, { file: options.file ?? `/tmp/wrapp-group/${name}.toml` });
}

/** A writer collecting text. */
function sink() {
  let text = "";
  return {
    text: () => text,
    write(bytes: Uint8Array): Promise<number> {
      text += new TextDecoder().decode(bytes);
      return Promise.resolve(bytes.length);
    },
  };
}

Deno.test("groupExitCode: 0 when every service ended with 0, else the first other code in time", () => {
  assert.equal(groupExitCode([]), 0);
  assert.equal(groupExitCode([{ exitCode: 0 }, { exitCode: 0 }]), 0);
  assert.equal(groupExitCode([{ exitCode: 0 }, { exitCode: 143 }, { exitCode: 3 }]), 143);
});

Deno.test("checkGroupConflicts refuses a shared stream_name, trace folder, spool or port, naming both files", () => {
  checkGroupConflicts([config("a", "true"), config("b", "true")]);
  const refused = (configs: Config[], pattern: RegExp) =>
    assert.throws(() => checkGroupConflicts(configs), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, pattern);
      return true;
    });
  refused(
    [config("a", "true"), config("a", "true", { file: "/tmp/wrapp-group/other.toml" })],
    /^Cannot run these services in one wrapp: "\/tmp\/wrapp-group\/a\.toml" and "\/tmp\/wrapp-group\/other\.toml" have the same stream_name "a"$/,
  );
  refused(
    [config("a", "true", { dir: "/tmp/t" }), config("b", "true", { dir: "/tmp/t" })],
    /have the same \[local\] dir "\/tmp\/t"/,
  );
  // A disabled local trace claims no folder.
  checkGroupConflicts([
    config("a", "true", { dir: "/tmp/t", local: false }),
    config("b", "true", { dir: "/tmp/t", local: false }),
  ]);
  const memprof = '[memprof]\nlisten = "127.0.0.1:9000"';
  refused(
    [config("a", "true", { extra: memprof }), config("b", "true", { extra: memprof })],
    /have the same \[memprof\] listen "127\.0\.0\.1:9000"/,
  );
});

Deno.test("ServiceGroup runs every service, prefixes their echo and stops them all", async () => {
  const stdout = sink();
  const stderr = sink();
  const group = new ServiceGroup([
    config("quick", "echo done; exit 4"),
    config("slow", "echo waiting; echo partial >&2; printf 'no newline'; exec sleep 30"),
  ], { stdout, stderr, handleSignals: false, drainMs: 200, onEnd: (end) => ended.push(end.name) });
  const ended: string[] = [];
  const running = group.run();
  const deadline = Date.now() + 20_000;
  while (!stdout.text().includes("slow | waiting\n") || !ended.includes("quick")) {
    assert.ok(Date.now() < deadline, `slow never started: ${stdout.text()} ${stderr.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(group.supervisors[0].pid, undefined);
  assert.notEqual(group.supervisors[1].pid, undefined, "slow runs on after quick ended");
  group.stop();
  const result = await running;
  assert.deepEqual(result.ends.map((e) => [e.name, e.exitCode]), [["quick", 4], ["slow", 143]]);
  assert.equal(result.exitCode, 4);
  assert.equal(
    stdout.text().split("\n").sort().join("\n"),
    ["", "quick | done", "slow | no newline", "slow | waiting"].join("\n"),
  );
  assert.ok(stderr.text().includes("slow | partial\n"), stderr.text());
});
