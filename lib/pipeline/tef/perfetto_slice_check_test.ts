// The slice rules of PerfettoSliceCheck, through checkPerfettoRules() so the messages are whole.
import assert from "node:assert/strict";
import { checkPerfettoRules } from "./perfetto_rules.ts";

const track = { pid: 7, tid: 2 };

function check(...events: unknown[]): string[] {
  return checkPerfettoRules(events);
}

Deno.test("checkPerfettoRules() reports an E without a B on its track", () => {
  assert.deepEqual(
    check({ ph: "B", ts: 1, pid: 7, tid: 1, name: "a" }, { ph: "E", ts: 2, ...track }, {
      ph: "E",
      ts: 3,
      pid: 7,
      tid: 1,
    }),
    ["event 1: E event on pid 7 tid 2 has no matching B"],
  );
});

Deno.test("checkPerfettoRules() reports a B that is never ended", () => {
  assert.deepEqual(check({ ph: "B", ts: 1, ...track, name: "run" }), [
    'event 0: B event "run" on pid 7 tid 2 is never ended',
  ]);
});

Deno.test("checkPerfettoRules() reports an E earlier than its B", () => {
  assert.deepEqual(
    check({ ph: "B", ts: 10, ...track, name: "run" }, { ph: "E", ts: 5, ...track }),
    [
      "event 1: E event on pid 7 tid 2 at ts 5 is before its B (event 0, ts 10)",
    ],
  );
});

Deno.test("checkPerfettoRules() reports B/E slices that overlap without nesting", () => {
  assert.deepEqual(
    check(
      { ph: "B", ts: 0, ...track, name: "a" },
      { ph: "B", ts: 5, ...track, name: "b" },
      { ph: "E", ts: 10, ...track },
      { ph: "E", ts: 15, ...track },
      // On another track the same times are fine.
      { ph: "B", ts: 0, pid: 7, tid: 3, name: "a" },
      { ph: "E", ts: 10, pid: 7, tid: 3 },
    ),
    [], // File order pairs E with the innermost B, so B/E alone always nest.
  );
  assert.deepEqual(
    check(
      { ph: "B", ts: 0, ...track, name: "a" },
      { ph: "E", ts: 10, ...track },
      { ph: "X", ts: 5, dur: 10, ...track, name: "x" },
    ),
    ['event 2: X event "x" (ts 5 to 15) overlaps event 0: B event "a" (ts 0 to 10) on pid 7 tid 2 without nesting in it'],
  );
});

Deno.test("checkPerfettoRules() reports X slices that overlap each other on one track", () => {
  assert.deepEqual(
    check(
      { ph: "X", ts: 0, dur: 10, ...track, name: "a" },
      { ph: "X", ts: 5, dur: 10, ...track, name: "b" },
      { ph: "X", ts: 5, dur: 10, pid: 7, tid: 9, name: "other track" },
    ),
    ['event 1: X event "b" (ts 5 to 15) overlaps event 0: X event "a" (ts 0 to 10) on pid 7 tid 2 without nesting in it'],
  );
});

Deno.test("checkPerfettoRules() compares slice ends in integer ns, free of float noise", () => {
  // 1.1 + 2.2 is 3.3000000000000003 in floating point; Perfetto sees 3300 ns for both.
  assert.deepEqual(
    check({ ph: "X", ts: 1.1, dur: 2.2, ...track, name: "parent" }, {
      ph: "X",
      ts: 2.3,
      dur: 1,
      ...track,
      name: "child",
    }),
    [],
  );
});

Deno.test("checkPerfettoRules() compares epoch-sized timestamps exactly", () => {
  const t = 1_795_618_851_149_679; // µs since the epoch: its ns do not fit a double
  const slice = (ts: number, dur: number) => ({ ph: "X", ts, dur, pid: 1, tid: 1, name: "s" });
  assert.deepEqual(checkPerfettoRules([slice(t, 1_997_135), slice(t + 1_997_135, 3_484)]), []);
  const overlapping = checkPerfettoRules([slice(t, 1_997_136), slice(t + 1_997_135, 3_484)]);
  assert.equal(overlapping.length, 1);
  assert.match(overlapping[0], /ts 1795618853146814 to 1795618853150298\) overlaps/);
});
