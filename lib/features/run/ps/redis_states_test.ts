import assert from "node:assert/strict";
import { stateRow } from "./redis_states.ts";
import { rowJson } from "./ps_row.ts";

const NOW = 1_800_000_000_000;

Deno.test("stateRow() reads a running service's hash", () => {
  const row = stateRow("robot", {
    pid: "812",
    run: "20261205-184243-3a7dfe",
    status: "running",
    version: "0.1.0",
    host: "orin-7",
    heartbeat: String(NOW - 20_000),
    started: String(NOW - 90_000),
    restarts: "2",
    signal: "SIGSEGV",
    exited: String(NOW - 95_000),
  }, NOW);
  assert.deepEqual(row, {
    name: "robot",
    state: "running",
    host: "orin-7",
    pid: 812,
    startedAt: NOW - 90_000,
    restarts: 2,
    lastExit: { signal: "SIGSEGV", at: NOW - 95_000 },
    heartbeat: NOW - 20_000,
  });
});

Deno.test("stateRow() shows no pid once the service exited, and its exit code", () => {
  const row = stateRow("job", {
    pid: "900",
    status: "exited",
    heartbeat: String(NOW - 1000),
    exit_code: "3",
    exited: String(NOW - 1000),
  }, NOW);
  assert.equal(row.pid, undefined);
  assert.deepEqual(row.lastExit, { code: 3, at: NOW - 1000 });
});

Deno.test("stateRow() calls a running service without a recent heartbeat stale", () => {
  const old = { status: "running", pid: "5", heartbeat: String(NOW - 181_000) };
  assert.equal(stateRow("a", old, NOW).state, "stale");
  assert.equal(stateRow("a", { ...old, heartbeat: String(NOW - 179_000) }, NOW).state, "running");
  assert.equal(stateRow("a", { ...old, status: "exited" }, NOW).state, "exited");
  assert.equal(stateRow("a", {}, NOW).state, "unknown");
});

Deno.test("stateRow() ignores fields that are not numbers", () => {
  const row = stateRow("a", { status: "running", pid: "x", started: "", restarts: "1.5" }, NOW);
  assert.deepEqual(row, { name: "a", state: "running" });
});

Deno.test("rowJson() prints snake_case keys, null for what is unknown, and the uptime", () => {
  assert.deepEqual(
    rowJson({
      name: "camera",
      wrappPid: 10,
      pid: 11,
      state: "running",
      startedAt: NOW - 5000,
      restarts: 1,
      lastExit: { code: 1, at: NOW - 6000 },
      lines: 40,
      linesPerSecond: 2.345,
      cpuPercent: 12.345,
      rssBytes: 4096,
      config: "/etc/wrapp/camera.toml",
    }, NOW),
    {
      name: "camera",
      wrapp_pid: 10,
      pid: 11,
      state: "running",
      started_at: NOW - 5000,
      uptime_ms: 5000,
      restarts: 1,
      last_exit: { code: 1, at: NOW - 6000 },
      lines: 40,
      lines_per_s: 2.35,
      cpu_percent: 12.3,
      rss_bytes: 4096,
      config: "/etc/wrapp/camera.toml",
    },
  );
  const silent = rowJson({ wrappPid: 12, state: "no answer", problem: "no answer" }, NOW);
  assert.equal(silent.name, null);
  assert.equal(silent.uptime_ms, null);
  assert.equal(silent.problem, "no answer");
  assert.equal("status" in silent, false);
  assert.equal(rowJson({ name: "x", state: "running", status: "ok" }, NOW).status, "ok");
});

Deno.test("stateRow() shows the service's own STATUS= text from the hash", () => {
  const row = stateRow("arm", { status: "running", status_text: "calibrating" }, 1000);
  assert.equal(row.status, "calibrating");
  assert.equal(stateRow("arm", { status: "running" }, 1000).status, undefined);
});
