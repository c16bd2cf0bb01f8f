import assert from "node:assert/strict";
import { formatDurationNs, parseDurationMs, parseDurationNs } from "./parse_duration.ts";

Deno.test("parseDurationNs() reads units from ns to h, combinations and bare seconds", () => {
  assert.equal(parseDurationNs("100ns"), 100);
  assert.equal(parseDurationNs("250us"), 250_000);
  assert.equal(parseDurationNs("250µs"), 250_000);
  assert.equal(parseDurationNs("1.5ms"), 1_500_000);
  assert.equal(parseDurationNs("10s"), 10e9);
  assert.equal(parseDurationNs("1m30s"), 90e9);
  assert.equal(parseDurationNs("1h"), 3600e9);
  assert.equal(parseDurationNs("2.5"), 2.5e9);
  assert.equal(parseDurationNs(" 3s "), 3e9);
});

Deno.test("parseDurationNs() rejects what is not a duration", () => {
  for (const text of ["", "s", "10x", "-5s", "5 s", "1.2.3s", "ms10", "10s junk"]) {
    assert.equal(parseDurationNs(text), undefined, text);
  }
});

Deno.test("formatDurationNs() picks a readable unit", () => {
  assert.equal(formatDurationNs(850), "850 ns");
  assert.equal(formatDurationNs(12_345), "12.35 µs");
  assert.equal(formatDurationNs(4_560_000), "4.560 ms");
  assert.equal(formatDurationNs(300_104_116), "300.1 ms");
  assert.equal(formatDurationNs(1_234_000_000), "1.234 s");
});

Deno.test("parseDurationMs() reads a config's durations: ms, s, m and h, nothing around them", () => {
  assert.equal(parseDurationMs("500ms"), 500);
  assert.equal(parseDurationMs("10s"), 10_000);
  assert.equal(parseDurationMs("1.5s"), 1500);
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("1h"), 3_600_000);
  assert.equal(parseDurationMs("0s"), 0);
  for (const text of ["", "10", " 3s", "3s ", ".5s", "250us", "100ns", "-5s", "soon", "1.2.3s"]) {
    assert.equal(parseDurationMs(text), undefined, text);
  }
});
