// Each rule of checkEventFields(), through checkPerfettoRules() so the messages are whole.
import assert from "node:assert/strict";
import { checkPerfettoRules } from "./perfetto_rules.ts";

const track = { pid: 7, tid: 2 };

function check(...events: unknown[]): string[] {
  return checkPerfettoRules(events);
}

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
