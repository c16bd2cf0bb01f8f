import assert from "node:assert/strict";
import { DOCTOR_HELP, doctorCommand, formatResults } from "./doctor_command.ts";
import { UsageError } from "../core/errors.ts";

Deno.test("formatResults(): marks, aligned names, fix lines, and the count line", () => {
  const text = formatResults([
    { check: "root", status: "ok", message: "running as root" },
    {
      check: "bpftrace",
      status: "missing",
      message: "not installed",
      fix: "apt-get install bpftrace",
    },
    {
      check: "c++filt",
      status: "warning",
      message: "not in PATH",
      fix: "apt-get install binutils",
    },
  ]);
  assert.equal(
    text,
    [
      "  CHECK     RESULT",
      "✓ root      running as root",
      "✗ bpftrace  not installed",
      "            → apt-get install bpftrace",
      "! c++filt   not in PATH",
      "            → apt-get install binutils",
      "1 problem, 1 warning",
    ].join("\n"),
  );
  assert.equal(formatResults([]), "  CHECK  RESULT\n0 problems, 0 warnings");
});

Deno.test("formatResults(): what the config does not use is marked -, and counted apart", () => {
  const text = formatResults([
    { check: "bpftrace", status: "missing", needed: false, message: "absent", fix: "install" },
    { check: "gdb", status: "missing", needed: true, message: "absent", fix: "install it" },
  ], { configName: "robot.toml" });
  assert.equal(
    text,
    [
      "  CHECK     RESULT",
      "- bpftrace  absent",
      "            → install",
      "✗ gdb       absent",
      "            → install it",
      "1 problem, 0 warnings; 1 missing but not used by robot.toml",
    ].join("\n"),
  );
});

Deno.test("formatResults(): wraps long results to the terminal's width under their column", () => {
  const text = formatResults([{
    check: "disk",
    status: "warning",
    message: "only 12 MiB free on / for the spool (/var/lib/wrapp/robot/spool, up to 256 MiB)",
    fix: "free space on /, or lower [redis] spool_max_bytes / move spool_dir",
  }], { width: 50 });
  const lines = text.split("\n");
  assert.ok(lines.every((line) => line.length <= 50), text);
  assert.equal(lines[1], "! disk   only 12 MiB free on / for the spool");
  assert.equal(lines[2], "         (/var/lib/wrapp/robot/spool, up to 256");
  assert.match(lines[4], /^ {9}→ free space on \/, or lower \[redis\]$/);
  assert.match(lines[5], /^ {11}spool_max_bytes/);
});

Deno.test("doctorCommand(): --help, unknown options and arguments", async () => {
  const printed: string[] = [];
  const context = { print: (t: string) => printed.push(t), debug: () => {} };
  assert.equal(await doctorCommand(["--help"], context), 0);
  assert.equal(printed[0], DOCTOR_HELP);
  await assert.rejects(
    () => doctorCommand(["--jsn"], context),
    (e) => e instanceof UsageError && /did you mean "--json"/.test(e.message),
  );
  await assert.rejects(() => doctorCommand(["svc.toml"], context), UsageError);
  await assert.rejects(
    () => doctorCommand(["--redis", "http://user:hunter2@x"], context),
    (e) => e instanceof UsageError && !e.message.includes("hunter2"),
  );
});
