import assert from "node:assert/strict";
import type { AnomalyEvent, SyscallRow } from "./syscall_events.ts";
import { describeAnomaly, formatAnomalies, formatSummaryTable } from "./summary_table.ts";

function row(partial: Partial<SyscallRow> & { name: string }): SyscallRow {
  return {
    nr: 0,
    calls: 1,
    errors: 0,
    errnos: {},
    totalNs: 0,
    meanNs: 0,
    p50Ns: 0,
    p99Ns: 0,
    maxNs: 0,
    ...partial,
  };
}

Deno.test("formatSummaryTable() lays rows out like strace -c, with percentiles and errnos", () => {
  const text = formatSummaryTable([
    row({
      name: "clock_nanosleep",
      calls: 21,
      totalNs: 321_696_222,
      meanNs: 15_318_867.7,
      p50Ns: 1_079_605.3,
      p99Ns: 300_104_116,
      maxNs: 300_104_116,
    }),
    row({
      name: "openat",
      calls: 12,
      errors: 5,
      errnos: { ENOENT: 5 },
      totalNs: 15_066,
      meanNs: 1255.5,
      p50Ns: 646.4,
      p99Ns: 7115,
      maxNs: 7115,
    }),
  ]);
  assert.equal(
    text,
    [
      "% time     seconds  usecs/call   p50 usecs   p99 usecs   max usecs     calls    errors syscall",
      "------ ----------- ----------- ----------- ----------- ----------- --------- --------- ----------------",
      "100.00    0.321696    15318.87     1079.61   300104.12   300104.12        21           clock_nanosleep",
      "  0.00    0.000015        1.26        0.65        7.12        7.12        12         5 openat (ENOENT 5)",
      "------ ----------- ----------- ----------- ----------- ----------- --------- --------- ----------------",
      "100.00    0.321711     9748.83                                            33         5 total",
    ].join("\n"),
  );
});

Deno.test("formatSummaryTable() gives each thread its own section, busiest first", () => {
  const text = formatSummaryTable(
    [
      row({ name: "read", tid: 11, calls: 2, totalNs: 100, meanNs: 50 }),
      row({ name: "write", tid: 12, calls: 1, totalNs: 5000 }),
    ],
    { threads: { 12: "worker" } },
  );
  const sections = text.split("\n\n");
  assert.equal(sections.length, 2);
  assert.ok(sections[0].startsWith("thread 12 (worker)\n% time"));
  assert.ok(sections[1].startsWith("thread 11\n% time"));
  assert.match(sections[1], /100\.00 +0\.000000 +0\.05 .* 2 +read/);
});

Deno.test("formatSummaryTable() of no calls still prints a total line", () => {
  assert.match(formatSummaryTable([]), /\n {2}0\.00 {4}0\.000000 {8}0\.00 .* 0 {11}total$/);
});

const anomaly: AnomalyEvent = {
  kind: "anomaly",
  time: 1300.5,
  pid: 10,
  tid: 11,
  comm: "worker",
  syscall: "read",
  nr: 0,
  startTime: 1000.5,
  latencyNs: 300_000_000,
  zScore: 41.234,
  meanNs: 12_000,
  stddevNs: 7000,
  reasons: ["zscore", "slow"],
  errno: "EINTR",
};

Deno.test("describeAnomaly() says who, what, how long and why on one line", () => {
  assert.equal(
    describeAnomaly(anomaly, 0),
    "+1.000s  pid 10 tid 11 (worker)  read failed EINTR  300.0 ms  z=41.2 above mean 12.00 µs, above --slow",
  );
});

Deno.test("formatAnomalies() lists the first ones in time order and counts the rest", () => {
  const later = { ...anomaly, startTime: 5000, syscall: "write" };
  const text = formatAnomalies([later, anomaly], { startTime: 0, total: 5, limit: 1 });
  assert.equal(text.split("\n").length, 3);
  assert.match(text, /^anomalies \(5\):\n {2}\+1\.000s .* read /);
  assert.match(text, /… 4 more \(see --json\)$/);
  assert.equal(formatAnomalies([], { startTime: 0 }), "no anomalies");
});
