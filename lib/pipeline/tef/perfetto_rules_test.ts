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
