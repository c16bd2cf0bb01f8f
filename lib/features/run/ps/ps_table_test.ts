import assert from "node:assert/strict";
import { formatBytes } from "../../../core/config/parse_size.ts";
import { formatAge, formatLastExit, formatPsTable } from "./ps_table.ts";
import type { PsRow } from "./ps_row.ts";

const NOW = 1_800_000_000_000;

const ROWS: PsRow[] = [
  {
    name: "camera",
    wrappPid: 4120,
    pid: 4133,
    state: "running",
    startedAt: NOW - (3 * 3600 + 12 * 60) * 1000,
    restarts: 0,
    lines: 9000,
    linesPerSecond: 12.34,
    cpuPercent: 3.14,
    rssBytes: 47_395_635,
  },
  {
    name: "lidar",
    wrappPid: 4188,
    state: "restarting",
    restarts: 12,
    lastExit: { signal: "SIGSEGV", at: NOW - 5000 },
    lines: 10,
    linesPerSecond: 0,
  },
  { wrappPid: 4300, state: "no answer", problem: "wrapp pid 4300 no answer within 1000 ms" },
];

Deno.test("formatPsTable() aligns text left and numbers right, with - for what is unknown", () => {
  assert.equal(
    formatPsTable(ROWS, { now: NOW }),
    [
      "NAME    WRAPP   PID  STATE       UPTIME  RESTARTS  LAST EXIT       LINES/S   CPU       RSS",
      "camera   4120  4133  running      3h12m         0  -                    12  3.1%  45.2 MiB",
      "lidar    4188     -  restarting       -        12  SIGSEGV 5s ago        0     -         -",
      "?        4300     -  no answer        -         -  -                     -     -         -",
    ].join("\n"),
  );
});

Deno.test("formatPsTable() adds a STATUS column only when a supervisor has a status text", () => {
  const withStatus = [{ ...ROWS[0], status: "ready: 3 cameras" }, ROWS[1]];
  const lines = formatPsTable(withStatus, { now: NOW }).split("\n");
  assert.match(lines[0], /RSS {2}STATUS$/);
  assert.match(lines[1], /45\.2 MiB {2}ready: 3 cameras$/);
  assert.match(lines[2], / {9}- {2}-$/);
});

Deno.test("formatPsTable() for a fleet shows HOST and SEEN instead of WRAPP, LINES/S, CPU, RSS", () => {
  const table = formatPsTable([
    {
      name: "robot",
      host: "orin-7",
      pid: 812,
      state: "running",
      startedAt: NOW - 90_000,
      restarts: 1,
      heartbeat: NOW - 20_000,
      lastExit: { code: 1, at: NOW - 95_000 },
    },
    { name: "arm", host: "orin-12", state: "stale", restarts: 0, heartbeat: NOW - 3 * 86_400_000 },
  ], { now: NOW, fleet: true });
  assert.equal(
    table,
    [
      "NAME   HOST     PID  STATE    UPTIME  RESTARTS  LAST EXIT         SEEN",
      "robot  orin-7   812  running      1m         1  exit 1 1m ago  20s ago",
      "arm    orin-12    -  stale         -         0  -               3d ago",
    ].join("\n"),
  );
});

Deno.test("formatPsTable() colors the state without breaking the alignment", () => {
  const plain = formatPsTable(ROWS, { now: NOW }).split("\n");
  const colored = formatPsTable(ROWS, { now: NOW, color: true }).split("\n");
  assert.equal(colored[0], plain[0]);
  assert.ok(colored[1].includes("\x1b[32mrunning\x1b[0m"));
  // deno-lint-ignore no-control-regex
  assert.deepEqual(colored.map((line) => line.replace(/\x1b\[\d+m/g, "")), plain);
});

Deno.test("formatPsTable() shows control characters of a name as ?", () => {
  const table = formatPsTable([{ name: "a\x1b[2Jb", state: "running" }], { now: NOW });
  assert.match(table.split("\n")[1], /^a\?\[2Jb /);
});

Deno.test("formatAge() is compact like pm2: seconds, minutes, hours and minutes, days and hours", () => {
  assert.equal(formatAge(-5), "0s");
  assert.equal(formatAge(59_999), "59s");
  assert.equal(formatAge(60_000), "1m");
  assert.equal(formatAge(3_599_000), "59m");
  assert.equal(formatAge(3_600_000), "1h");
  assert.equal(formatAge(3_600_000 + 61_000), "1h1m");
  assert.equal(formatAge(86_400_000 * 2 + 3_600_000 * 5), "2d5h");
  assert.equal(formatAge(86_400_000), "1d");
});

Deno.test("formatBytes() uses binary units with one decimal below 100", () => {
  assert.equal(formatBytes(812), "812 B");
  assert.equal(formatBytes(4096), "4.0 KiB");
  assert.equal(formatBytes(47_395_635), "45.2 MiB");
  assert.equal(formatBytes(200 * 1024 * 1024), "200 MiB");
  assert.equal(formatBytes(1.5 * 1024 ** 3), "1.5 GiB");
});

Deno.test("formatLastExit() says how and how long ago", () => {
  assert.equal(formatLastExit({ code: 0, at: NOW - 3_600_000 }, NOW), "exit 0 1h ago");
  assert.equal(formatLastExit({ signal: "SIGKILL", at: NOW - 1000 }, NOW), "SIGKILL 1s ago");
});
