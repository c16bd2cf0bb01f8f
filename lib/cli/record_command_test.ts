import assert from "node:assert/strict";
import { SpawnError, UsageError } from "../core/errors.ts";
import type { RecordResult } from "../features/record/recorder.ts";
import type { RecordingMetadata } from "../features/record/metadata.ts";
import {
  DEFAULT_RECORD_DIR,
  DEFAULT_RECORD_DURATION_MS,
  formatRecordReport,
  parseRecordArgs,
  RECORD_HELP,
  recordCommand,
  resolveWorkloadName,
} from "./record_command.ts";

Deno.test("parseRecordArgs(): a workload with the defaults", () => {
  const args = parseRecordArgs(["redis"]);
  assert.equal(args.workload, "redis");
  assert.equal(args.durationMs, DEFAULT_RECORD_DURATION_MS);
  assert.equal(args.out, DEFAULT_RECORD_DIR);
  assert.equal(args.custom, undefined);
  assert.equal(args.thresholdSigma, 3);
});

Deno.test("parseRecordArgs(): every option", () => {
  const args = parseRecordArgs([
    "postgres",
    "-d",
    "1m30s",
    "-o",
    "/tmp/t",
    "--floor",
    "200us",
    "--slow",
    "50ms",
    "--threshold",
    "4.5",
    "--redis",
    "redis://127.0.0.1:6379",
    "--redis-password-file",
    "/run/pw",
    "--name",
    "pg-bench",
    "--bpftrace",
    "/opt/bpftrace",
    "--debug",
  ]);
  assert.equal(args.workload, "postgresql", "an alias");
  assert.equal(args.durationMs, 90_000);
  assert.equal(args.out, "/tmp/t");
  assert.equal(args.floorNs, 200_000);
  assert.equal(args.slowNs, 50_000_000);
  assert.equal(args.thresholdSigma, 4.5);
  assert.equal(args.redis, "redis://127.0.0.1:6379");
  assert.equal(args.redisPasswordFile, "/run/pw");
  assert.equal(args.name, "pg-bench");
  assert.equal(args.bpftrace, "/opt/bpftrace");
  assert.equal(args.debug, true);
});

Deno.test("parseRecordArgs(): --custom is split like a shell, and may run until it exits", () => {
  const args = parseRecordArgs(["--custom", `./server --name "my app"`, "--duration", "0"]);
  assert.deepEqual(args.custom, ["./server", "--name", "my app"]);
  assert.equal(args.workload, undefined);
  assert.equal(args.durationMs, 0);
});

Deno.test("parseRecordArgs(): what is wrong is a UsageError that says what to do", () => {
  const cases: [string[], RegExp][] = [
    [[], /^Nothing to record: usage "wrapp record APP" \(redis, nginx, postgresql\)/],
    [["redis", "nginx"], /Too many arguments .*"nginx".*--custom/],
    [["redis", "--custom", "ls"], /Give either a workload or --custom to "wrapp record", not both/],
    [["redis", "-d", "0"], /Invalid --duration "0": must be at least 1s/],
    [["redis", "-d", "500ms"], /must be at least 1s/],
    [["redis", "-d", "soon"], /Invalid --duration "soon": expected a duration/],
    [["--custom", "x", "-d", "1us"], /at least 1ms \(or 0: until the command exits\)/],
    [["redis", "--threshold", "0"], /Invalid --threshold "0"/],
    [["redis", "--floor", "10ns"], /Invalid --floor "10ns": must be at least 1\.000 µs/],
    [["redis", "--name", "a b"], /Invalid --name "a b"/],
    [["redis", "--durtion", "5s"], /Unknown option "--durtion" .*did you mean "--duration"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseRecordArgs(args),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(" "),
    );
  }
});

Deno.test("resolveWorkloadName(): names, aliases, and a suggestion for a typo", () => {
  assert.equal(resolveWorkloadName("Redis"), "redis");
  assert.equal(resolveWorkloadName("pg"), "postgresql");
  assert.throws(() => resolveWorkloadName("ngnix"), {
    message:
      'Unknown workload "ngnix" (did you mean "nginx"?): the workloads are redis, nginx, postgresql; any other command is --custom "COMMAND ARGS"',
  });
  assert.throws(() => resolveWorkloadName("postgress"), { message: /did you mean "postgresql"/ });
  assert.throws(() => resolveWorkloadName("mysql"), { message: /^Unknown workload "mysql": / });
});

Deno.test("recordCommand(): --help and --list print, without root", async () => {
  const printed: string[] = [];
  const context = { print: (t: string) => printed.push(t), debug: () => {} };
  assert.equal(await recordCommand(["--help"], context), 0);
  assert.equal(printed[0], RECORD_HELP);
  assert.equal(await recordCommand(["--list"], context), 0);
  assert.match(printed[1], /^Built-in workloads/);
  assert.match(printed[1], /^redis +redis-server/m);
});

Deno.test("recordCommand(): a command that does not exist fails before anything starts", async () => {
  const context = { print: () => {}, debug: () => {} };
  await assert.rejects(
    recordCommand(["--custom", "/nonexistent/wrapp-app --flag"], context),
    (e: unknown) => e instanceof SpawnError && e.exitCode === 127,
  );
});

Deno.test("formatRecordReport(): the figures, then where the files are", () => {
  const metadata = {
    app: "redis",
    duration_s: 10.44,
    syscalls: 1234,
    threads: 5,
    processes: 1,
    anomalies: 1,
    lost_events: 0,
  } as RecordingMetadata;
  const result: RecordResult = {
    dir: "/x/traces/redis_20260101-000000",
    name: "redis_20260101-000000",
    metadata,
    results: ["SET: 1000 requests/s"],
    exitCode: 0,
  };
  assert.equal(
    formatRecordReport(result, "traces"),
    [
      "wrapp record redis: 10.4 s, 1234 syscalls by 5 threads in 1 process, 1 anomaly",
      "  SET: 1000 requests/s",
      "traces/redis_20260101-000000/",
      "  trace.json     open in https://ui.perfetto.dev",
      "  summary.txt    syscall table per thread, top anomalies",
      "  metadata.json  versions, times, counts, exit status",
    ].join("\n"),
  );
  assert.match(
    formatRecordReport({ ...result, metadata: { ...metadata, lost_events: 7 } }, "traces"),
    /, 1 anomaly, 7 events lost\n/,
  );
});
