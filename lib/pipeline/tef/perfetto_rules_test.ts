import assert from "node:assert/strict";
import { checkPerfettoRules, checkTraceFileText } from "./perfetto_rules.ts";

const track = { pid: 7, tid: 2 };

/** A trace with one event of every supported phase, all valid. */
function validEvents(): Record<string, unknown>[] {
  return [
    { ph: "M", pid: 7, name: "process_name", args: { name: "svc" } },
    { ph: "M", pid: 7, tid: 2, name: "thread_name", args: { name: "stdout" } },
    { ph: "M", pid: 7, name: "process_sort_index", args: { sort_index: 1 } },
    { ph: "M", pid: 7, tid: 2, name: "thread_sort_index", args: { sort_index: 2 } },
    { ph: "B", ts: 0, ...track, name: "run", args: { a: "x" } },
    { ph: "X", ts: 1.1, dur: 2.2, ...track, name: "child" },
    { ph: "X", ts: 1.1, dur: 2.2, ...track, name: "same span nests" },
    { ph: "X", ts: 1.2, dur: 0.1, ...track, name: "grandchild" },
    { ph: "X", ts: 3.3, dur: 1, ...track, name: "next, touching the previous end" },
    { ph: "E", ts: 10, ...track },
    { ph: "i", ts: 11, ...track, name: "line", s: "t" },
    { ph: "I", ts: 12, ...track, name: "global", s: "g" },
    { ph: "C", ts: 13, pid: 7, tid: 5, name: "temp", args: { value: 21.5, other: -1 } },
    { ph: "b", ts: 14, ...track, name: "req", cat: "http", id: 1 },
    { ph: "n", ts: 15, ...track, name: "req step", cat: "http", id2: { local: "0x1" } },
    { ph: "e", ts: 16, ...track, cat: "http", id: 1 },
    { ph: "s", ts: 17, ...track, name: "flow", id: "a" },
    { ph: "t", ts: 18, ...track, name: "flow", id: "a" },
    { ph: "f", ts: 19, ...track, name: "flow", id: "a", bp: "e" },
  ];
}

function check(...events: unknown[]): string[] {
  return checkPerfettoRules(events);
}

Deno.test("checkPerfettoRules() accepts one valid event of every supported phase", () => {
  assert.deepEqual(checkPerfettoRules(validEvents()), []);
});

Deno.test("checkPerfettoRules() rejects a value that is not an object", () => {
  assert.deepEqual(check("x", null, [1]), [
    "event 0: not an object (got string)",
    "event 1: not an object (got null)",
    "event 2: not an object (got an array)",
  ]);
});

Deno.test("checkPerfettoRules() rejects a missing or unsupported ph", () => {
  assert.deepEqual(
    check({ ts: 1, ...track, name: "a" }, { ph: "Q", ts: 1, ...track, name: "a" }, {
      ph: 1,
      ts: 1,
      ...track,
    }),
    [
      "event 0: has no ph",
      'event 1: unsupported ph "Q"',
      "event 2: has non-string ph 1",
    ],
  );
});

Deno.test("checkPerfettoRules() requires a finite numeric ts except on M", () => {
  assert.deepEqual(
    check(
      { ph: "i", ...track, name: "a" },
      { ph: "i", ts: "12", ...track, name: "b" },
      { ph: "i", ts: Infinity, ...track, name: "c" },
      { ph: "M", pid: 7, name: "process_name", args: { name: "no ts is fine" } },
    ),
    [
      'event 0: i event "a" has no ts',
      'event 1: i event "b" has non-numeric ts "12"',
      'event 2: i event "c" has non-numeric ts Infinity',
    ],
  );
});

Deno.test("checkPerfettoRules() requires pid and tid to be uint32 integers", () => {
  assert.deepEqual(
    check(
      { ph: "i", ts: 1, pid: -1, tid: 1, name: "a" },
      { ph: "i", ts: 1, pid: 1, tid: 4294967296, name: "b" },
      { ph: "i", ts: 1, pid: 1.5, tid: "1", name: "c" },
      { ph: "i", ts: 1, name: "d" },
      { ph: "M", pid: 1, name: "thread_name", args: { name: "t" } },
    ),
    [
      'event 0: i event "a" has pid -1, expected an integer 0..4294967295',
      'event 1: i event "b" has tid 4294967296, expected an integer 0..4294967295',
      'event 2: i event "c" has pid 1.5, expected an integer 0..4294967295',
      'event 2: i event "c" has tid "1", expected an integer 0..4294967295',
      'event 3: i event "d" has no pid',
      'event 3: i event "d" has no tid',
      'event 4: M event "thread_name" has no tid',
    ],
  );
});

Deno.test("checkPerfettoRules() requires a string name except on E and e", () => {
  assert.deepEqual(
    check(
      { ph: "i", ts: 1, ...track },
      { ph: "X", ts: 1, dur: 1, ...track, name: 5 },
      { ph: "B", ts: 1, ...track, name: "ok" },
      { ph: "E", ts: 2, ...track },
    ),
    ["event 0: i event has no name", "event 1: X event has non-string name 5"],
  );
});

Deno.test("checkPerfettoRules() requires args to be an object", () => {
  assert.deepEqual(check({ ph: "i", ts: 1, ...track, name: "a", args: [1] }), [
    'event 0: i event "a" has args [1], expected an object',
  ]);
});

Deno.test("checkPerfettoRules() requires X to have a numeric dur of at least 0", () => {
  assert.deepEqual(
    check(
      { ph: "X", ts: 1, ...track, name: "a" },
      { ph: "X", ts: 1, dur: "5", ...track, name: "b" },
      { ph: "X", ts: 1, dur: -5, ...track, name: "c" },
    ),
    [
      'event 0: X event "a" has no dur',
      'event 1: X event "b" has non-numeric dur "5"',
      'event 2: X event "c" has negative dur -5',
    ],
  );
});

Deno.test("checkPerfettoRules() requires C to have non-empty, all-numeric args", () => {
  assert.deepEqual(
    check(
      { ph: "C", ts: 1, ...track, name: "a" },
      { ph: "C", ts: 1, ...track, name: "b", args: {} },
      { ph: "C", ts: 1, ...track, name: "temp", args: { ok: 1, x: "3", y: null } },
    ),
    [
      'event 0: C event "a" has no args (a counter needs at least one numeric arg)',
      'event 1: C event "b" has no args (a counter needs at least one numeric arg)',
      'event 2: C event "temp" has non-numeric arg "x"',
      'event 2: C event "temp" has non-numeric arg "y"',
    ],
  );
});

Deno.test("checkPerfettoRules() requires b, e and n to have cat and id", () => {
  assert.deepEqual(
    check(
      { ph: "b", ts: 1, ...track, name: "a", id: 1 },
      { ph: "n", ts: 1, ...track, name: "b", cat: "c" },
      { ph: "e", ts: 2, ...track, cat: 3, id2: {} },
    ),
    [
      'event 0: b event "a" has no cat',
      'event 1: n event "b" has no id',
      "event 2: e event has non-string cat 3",
      "event 2: e event has no id",
    ],
  );
});

Deno.test("checkPerfettoRules() requires flow events s, t and f to have an id", () => {
  assert.deepEqual(check({ ph: "s", ts: 1, ...track, name: "flow" }), [
    'event 0: s event "flow" has no id',
  ]);
});

Deno.test("checkPerfettoRules() rejects an unknown instant scope", () => {
  assert.deepEqual(check({ ph: "i", ts: 1, ...track, name: "a", s: "x" }), [
    'event 0: i event "a" has scope "x", expected "g", "p" or "t"',
  ]);
});

Deno.test("checkPerfettoRules() accepts only the four M names with their args", () => {
  assert.deepEqual(
    check(
      { ph: "M", ...track, name: "process_labels", args: { labels: "x" } },
      { ph: "M", ...track, name: "thread_name", args: { title: "x" } },
      { ph: "M", pid: 7, name: "process_name" },
      { ph: "M", ...track, name: "thread_sort_index", args: { sort_index: "1" } },
    ),
    [
      'event 0: M event "process_labels" is not supported (only process_name, thread_name, process_sort_index, thread_sort_index)',
      'event 1: M event "thread_name" has no string args.name',
      'event 2: M event "process_name" has no string args.name',
      'event 3: M event "thread_sort_index" has no integer args.sort_index',
    ],
  );
});

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

Deno.test("checkPerfettoRules() stops listing violations at the limit and says how many more", () => {
  const events = Array.from({ length: 5 }, () => "x");
  assert.deepEqual(checkPerfettoRules(events, { limit: 2 }), [
    "event 0: not an object (got string)",
    "event 1: not an object (got string)",
    "3 more violations not shown",
  ]);
});

Deno.test("checkTraceFileText() accepts a valid array-form trace", () => {
  assert.deepEqual(checkTraceFileText(JSON.stringify(validEvents())), []);
});

Deno.test("checkTraceFileText() rejects empty text, leading whitespace and object form", () => {
  assert.deepEqual(checkTraceFileText(""), ["Trace is empty"]);
  assert.deepEqual(checkTraceFileText(' [{"ph":"M"}]'), [
    `Trace must start with '[{"' for Perfetto to detect it, but starts with ' [{"ph":"M"}]'`,
  ]);
  assert.deepEqual(checkTraceFileText('{"traceEvents":[]}'), [
    `Trace must start with '[{"' for Perfetto to detect it, but starts with '{"traceEvents":[' (object form; write array form)`,
  ]);
  assert.deepEqual(checkTraceFileText("[]"), [
    `Trace must start with '[{"' for Perfetto to detect it, but starts with '[]'`,
  ]);
  assert.deepEqual(checkTraceFileText("\n"), [
    `Trace must start with '[{"' for Perfetto to detect it, but starts with '\\n'`,
  ]);
});

Deno.test("checkTraceFileText() rejects a cut-off array and reports event violations", () => {
  const [problem] = checkTraceFileText('[{"ph":"i","ts":1,"pid":1,"tid":1,"name":"a"},');
  assert.match(problem, /^Trace is not valid JSON: /);
  assert.deepEqual(
    checkTraceFileText('[{"ph":"C","ts":1,"pid":1,"tid":1,"name":"temp","args":{"x":"hot"}}]'),
    [
      'event 0: C event "temp" has non-numeric arg "x"',
    ],
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
