import assert from "node:assert/strict";
import type { LogEvent, MetricEvent } from "../../core/event.ts";
import {
  findMarkers,
  MarkerExtractor,
  parseMarkerNumber,
  removeGoMarkers,
} from "./extract_markers.ts";
import { LineSplitter } from "./split_lines.ts";

const line = (text: string, time = 1): LogEvent => ({ kind: "log", stream: "stdout", text, time });

Deno.test("findMarkers() finds an increment and a set", () => {
  assert.deepEqual(findMarkers("a {{requests}} b"), [{ name: "requests" }]);
  assert.deepEqual(findMarkers("{{temp:41.5}}"), [{ name: "temp", value: "41.5" }]);
});

Deno.test("findMarkers() finds several markers on a line, in order", () => {
  assert.deepEqual(findMarkers("{{a}} x {{b:2}}{{c.d-e_f}} {{a}}"), [
    { name: "a" },
    { name: "b", value: "2" },
    { name: "c.d-e_f" },
    { name: "a" },
  ]);
});

Deno.test("findMarkers() leaves malformed markers as plain text", () => {
  for (
    const text of ["{{}}", "{{a:}}", "{{a:   }}", "{{:1}}", "{{a b}}", "{{a", "{{a:1", "{{1a}}"]
  ) {
    assert.deepEqual(findMarkers(text), [], text);
  }
});

Deno.test("findMarkers() rejects whitespace around the name but trims the value", () => {
  assert.deepEqual(findMarkers("{{ a }} {{a :1}} {{ a:1}}"), []);
  assert.deepEqual(findMarkers("{{state:  ready now }}"), [{ name: "state", value: "ready now" }]);
});

Deno.test("findMarkers() finds a valid marker after a malformed one", () => {
  assert.deepEqual(findMarkers("{{a b}} {{ok}}"), [{ name: "ok" }]);
  assert.deepEqual(findMarkers("{{a {{b}}"), [{ name: "b" }]);
  assert.deepEqual(findMarkers("{{a:x {{b}}"), [{ name: "b" }]);
  assert.deepEqual(findMarkers("{{{a}}}"), [{ name: "a" }]);
});

Deno.test("findMarkers() closes a value at the first }}", () => {
  assert.deepEqual(findMarkers('{{cfg:{"a":1}}}'), [{ name: "cfg", value: '{"a":1' }]);
});

Deno.test("findMarkers() enforces the name and value length limits", () => {
  assert.deepEqual(findMarkers(`{{${"n".repeat(128)}}}`), [{ name: "n".repeat(128) }]);
  assert.deepEqual(findMarkers(`{{${"n".repeat(129)}}}`), []);
  assert.deepEqual(findMarkers(`{{v:${"x".repeat(1024)}}}`), [{
    name: "v",
    value: "x".repeat(1024),
  }]);
  assert.deepEqual(findMarkers(`{{v:${"x".repeat(1025)}}}`), []);
});

Deno.test("findMarkers() does not let a value span lines", () => {
  assert.deepEqual(findMarkers("{{a:1\n2}} {{b}}"), [{ name: "b" }]);
});

Deno.test("findMarkers() stays fast on pathological input", () => {
  const text = "{{".repeat(30000) + "}}" + "{{a:".repeat(10000) + "}}";
  const started = performance.now();
  assert.deepEqual(findMarkers(text), []);
  // A quadratic scan takes tens of seconds here; qemu (WRAPP_TEST_EMULATED) is ~40x slower than native.
  const budgetMs = Deno.env.get("WRAPP_TEST_EMULATED") === "1" ? 10_000 : 500;
  assert.ok(performance.now() - started < budgetMs);
});

Deno.test("parseMarkerNumber() accepts decimal literals only", () => {
  assert.equal(parseMarkerNumber("42.5"), 42.5);
  assert.equal(parseMarkerNumber("-3"), -3);
  assert.equal(parseMarkerNumber("+7"), 7);
  assert.equal(parseMarkerNumber("1e3"), 1000);
  assert.equal(parseMarkerNumber(".5"), 0.5);
  assert.equal(parseMarkerNumber("abc"), undefined);
  assert.equal(parseMarkerNumber("0x10"), undefined);
  assert.equal(parseMarkerNumber("Infinity"), undefined);
  assert.equal(parseMarkerNumber("1e999"), undefined);
  assert.equal(parseMarkerNumber("1_000"), undefined);
  assert.equal(parseMarkerNumber("12ms"), undefined);
});

Deno.test("MarkerExtractor returns nothing for a line without markers", () => {
  assert.deepEqual(new MarkerExtractor().extract(line("plain { text } here")), []);
});

Deno.test("MarkerExtractor accumulates counters per name", () => {
  const extractor = new MarkerExtractor();
  const incr = (name: string, numeric: number, time: number): MetricEvent => ({
    kind: "metric",
    time,
    stream: "stdout",
    name,
    op: "incr",
    value: "1",
    numeric,
  });
  assert.deepEqual(extractor.extract(line("{{hits}} {{hits}} {{miss}}", 5)), [
    incr("hits", 1, 5),
    incr("hits", 2, 5),
    incr("miss", 1, 5),
  ]);
  assert.deepEqual(extractor.extract(line("{{hits}}", 6)), [incr("hits", 3, 6)]);
  assert.equal(extractor.total("hits"), 3);
});

Deno.test("MarkerExtractor sets values with numeric only for decimal numbers", () => {
  const extractor = new MarkerExtractor();
  const metrics = extractor.extract(
    line("{{t:42.5}} {{d:-3}} {{e:1e3}} {{s:abc}} {{h:0x10}}"),
  );
  assert.deepEqual(
    metrics.map((m) => [m.name, m.op, m.value, m.numeric]),
    [
      ["t", "set", "42.5", 42.5],
      ["d", "set", "-3", -3],
      ["e", "set", "1e3", 1000],
      ["s", "set", "abc", undefined],
      ["h", "set", "0x10", undefined],
    ],
  );
  assert.ok(!("numeric" in metrics[3]), "a non-numeric set has no numeric field");
});

Deno.test("MarkerExtractor continues a counter from a numeric set", () => {
  const extractor = new MarkerExtractor();
  extractor.extract(line("{{jobs}}"));
  assert.equal(extractor.extract(line("{{jobs:10}} {{jobs}}"))[1].numeric, 11);
  assert.equal(extractor.extract(line("{{jobs:idle}} {{jobs}}"))[1].numeric, 1);
});

Deno.test("MarkerExtractor keeps the stream and time of the event and does not modify it", () => {
  const event: LogEvent = { kind: "log", stream: "stderr", text: "x {{err}}", time: 9 };
  const copy = structuredClone(event);
  const [metric] = new MarkerExtractor().extract(event);
  assert.equal(metric.stream, "stderr");
  assert.equal(metric.time, 9);
  assert.deepEqual(event, copy);
});

Deno.test("MarkerExtractor extracts every marker of a multi-line block", () => {
  const block: LogEvent = { ...line("{{a}}\nsome text {{b:1}}\n{{a}}"), lines: 3 };
  assert.deepEqual(
    new MarkerExtractor().extract(block).map((m) => [m.name, m.op, m.numeric]),
    [["a", "incr", 1], ["b", "set", 1], ["a", "incr", 2]],
  );
});

const go = { grammar: "go" } as const;

Deno.test("findMarkers() in the go grammar takes \\w names and digit values only", () => {
  assert.deepEqual(findMarkers("{{x}} {{x:}} {{n:12}} {{s:007}} {{1abc}} {{_u}}", go), [
    { name: "x" },
    { name: "x" },
    { name: "n", value: "12" },
    { name: "s", value: "007" },
    { name: "1abc" },
    { name: "_u" },
  ]);
  for (
    const text of ["{{v:abc}}", "{{a.b}}", "{{z:1.5}}", "{{a-b}}", "{{}}", "{{:1}}", "{{ a }}"]
  ) {
    assert.deepEqual(findMarkers(text, go), [], text);
  }
  assert.deepEqual(findMarkers("{{t: 4}} {{n:1:2}} {{ü}}", go), []);
});

Deno.test("findMarkers() in the go grammar matches leftmost, without overlaps, without length limits", () => {
  assert.deepEqual(findMarkers("{{{a}}}", go), [{ name: "a" }]);
  assert.deepEqual(findMarkers("{{a{{b}}", go), [{ name: "b" }]);
  assert.deepEqual(findMarkers("{{a}}}}{{b:1}}", go), [{ name: "a" }, { name: "b", value: "1" }]);
  assert.deepEqual(findMarkers(`{{${"n".repeat(500)}:${"9".repeat(2000)}}}`, go), [
    { name: "n".repeat(500), value: "9".repeat(2000) },
  ]);
});

Deno.test("removeGoMarkers() removes every Go marker and nothing else", () => {
  assert.equal(removeGoMarkers("hello {{cnt}} world"), "hello  world");
  assert.equal(
    removeGoMarkers("count {{x}} and {{n:12}} and {{v:abc}} and {{a.b}} and {{z:1.5}}"),
    "count  and  and {{v:abc}} and {{a.b}} and {{z:1.5}}",
  );
  assert.equal(removeGoMarkers("{{1abc}} {{_u}} {{e:}} {{s:007}}"), "   ");
  assert.equal(removeGoMarkers("{{{a}}}"), "{}");
  assert.equal(removeGoMarkers("no markers {here}"), "no markers {here}");
  assert.equal(removeGoMarkers("a\n{{b}}\nc"), "a\n\nc");
});

Deno.test("the go grammar stays linear where a backtracking RegExp of it is quadratic", () => {
  const text = "{{" + "1".repeat(200_000) + "{{a" + "{{".repeat(50_000);
  const started = performance.now();
  assert.deepEqual(findMarkers(text, go), []);
  assert.equal(removeGoMarkers(text), text);
  const budgetMs = Deno.env.get("WRAPP_TEST_EMULATED") === "1" ? 10_000 : 500;
  assert.ok(performance.now() - started < budgetMs);
});

Deno.test("MarkerExtractor in the go grammar counts {{x:}} and sets digit strings", () => {
  const extractor = new MarkerExtractor(go);
  const metrics = extractor.extract(line("{{x}} {{x:}} {{s:007}} {{v:abc}} {{a.b}}"));
  assert.deepEqual(
    metrics.map((m) => [m.name, m.op, m.value, m.numeric]),
    [["x", "incr", "1", 1], ["x", "incr", "1", 2], ["s", "set", "007", 7]],
  );
  assert.deepEqual(
    new MarkerExtractor().extract(line("{{v:abc}} {{a.b}}")).map((m) => m.name),
    ["v", "a.b"],
    "the default grammar is ours",
  );
});

Deno.test("the go grammar agrees with the RegExp \\{\\{(\\w+):?(\\d*)\\}\\} on short texts", () => {
  const alphabet = ["{", "}", ":", "a", "_", "1", "0", " ", ".", "{{", "}}"];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    let text = "";
    for (let n = Math.floor(random() * 14); n > 0; n--) {
      text += alphabet[Math.floor(random() * alphabet.length)];
    }
    const expected = [...text.matchAll(/\{\{(\w+):?(\d*)\}\}/g)].map((m) =>
      m[2] === "" ? { name: m[1] } : { name: m[1], value: m[2] }
    );
    assert.deepEqual(findMarkers(text, go), expected, JSON.stringify(text));
    assert.equal(removeGoMarkers(text), text.replace(/\{\{(\w+):?(\d*)\}\}/g, ""), text);
  }
});

/** The log events `wrapp run` makes of `text` on `stream` with `max_line_bytes` = `max`. */
function splitEvents(
  text: string,
  max: number,
  stream: "stdout" | "stderr" = "stdout",
): LogEvent[] {
  const splitter = new LineSplitter({ maxLineBytes: max });
  return [...splitter.push(new TextEncoder().encode(text)), ...splitter.end()].map((line) => ({
    kind: "log",
    stream,
    text: line.text,
    time: 1,
    ...(line.split ? { split: line.split } : {}),
  }));
}

for (const grammar of ["wrapp", "go"] as const) {
  Deno.test(`MarkerExtractor (${grammar} grammar) counts a marker cut in two by the max_line_bytes split`, () => {
    // Every position of the cut inside the marker, with markers before and after it.
    for (let at = 1; at < "{{requests}}".length; at++) {
      const text = `${"x".repeat(256 - at)}{{requests}} {{n:42}} {{requests}}\n`;
      const events = splitEvents(text, 256);
      assert.ok(events.length >= 2 && events[0].split, `${at}: not split`);
      assert.ok(!events[0].text.includes("{{requests}}"), `${at}: not cut`);
      const extractor = new MarkerExtractor({ grammar });
      const metrics = events.flatMap((event) => extractor.extract(event));
      assert.deepEqual(
        metrics.map((m) => `${m.name} ${m.op} ${m.value} ${m.numeric}`),
        ["requests incr 1 1", "n set 42 42", "requests incr 1 2"],
        `cut after ${at} characters`,
      );
    }
  });
}

Deno.test("MarkerExtractor counts a marker spanning three parts once, and keeps stdout and stderr apart", () => {
  const value = "7".repeat(600);
  const out = splitEvents(`${"a".repeat(200)}{{depth:${value}}} tail\n`, 256);
  assert.equal(out.length, 4);
  const err = splitEvents(`${"b".repeat(250)}{{errors}}\n`, 256, "stderr");
  const extractor = new MarkerExtractor();
  // Interleaved: stderr's parts between stdout's must not join them.
  const metrics = [out[0], err[0], out[1], err[1], out[2], out[3]].flatMap((e) =>
    extractor.extract(e)
  );
  assert.deepEqual(metrics.map((m) => `${m.stream} ${m.name} ${m.value}`), [
    "stderr errors 1",
    `stdout depth ${value}`,
  ]);
});

Deno.test("MarkerExtractor does not count a marker twice when a line's parts are not cut inside it", () => {
  const events = splitEvents(`${"x".repeat(240)}{{a}}${"y".repeat(11)}{{b}}\n`, 256);
  assert.equal(events[0].text.endsWith("{{a}}" + "y".repeat(11)), true);
  const extractor = new MarkerExtractor();
  const metrics = events.flatMap((event) => extractor.extract(event));
  assert.deepEqual(metrics.map((m) => m.name), ["a", "b"]);
});

Deno.test("MarkerExtractor remembers at most maxNames totals, forgetting the least recently used and counting it", () => {
  const reports: number[] = [];
  const markers = new MarkerExtractor({ maxNames: 4, onFirstForget: (n) => reports.push(n) });
  markers.extract(line("{{a}} {{b}} {{c}}"));
  assert.equal(markers.forgotten, 0);
  const metrics = markers.extract(line("{{a}} {{e:5}}")); // b is the least recently used
  // Every marker is still a metric event.
  assert.deepEqual(metrics.map((m) => [m.name, m.numeric]), [["a", 2], ["e", 5]]);
  assert.ok(markers.names <= 4);
  assert.equal(markers.forgotten, 1);
  assert.deepEqual(reports, [1]); // reported once, at the first
  assert.equal(markers.total("a"), 2);
  assert.equal(markers.total("b"), 0);
  assert.equal(markers.total("c"), 1);
  assert.equal(markers.total("e"), 5);
  // A forgotten counter starts again.
  assert.equal(markers.extract(line("{{b}}"))[0].numeric, 1);
  assert.throws(() => new MarkerExtractor({ maxNames: 1 }), RangeError);
});

Deno.test("MarkerExtractor: 300,000 distinct names keep the default bound of remembered totals", () => {
  // Under qemu (the aarch64 lane sets WRAPP_TEST_EMULATED), ~40x slower: fewer names.
  const emulated = Deno.env.get("WRAPP_TEST_EMULATED") === "1";
  const count = emulated ? 60_000 : 300_000;
  let reported = 0;
  const markers = new MarkerExtractor({ onFirstForget: () => reported++ });
  const started = performance.now();
  for (let i = 0; i < count; i++) markers.extract(line(`request {{req_${i}}} done {{ok}}`));
  const ms = performance.now() - started;
  assert.ok(markers.names <= 10_000, `${markers.names} names remembered`);
  assert.equal(markers.forgotten + markers.names, count + 1);
  assert.equal(reported, 1);
  assert.equal(markers.total("ok"), count, "a name in use all along is never forgotten");
  // Linear: about a second on a Jetson; a quadratic structure takes tens of seconds
  // natively (300,000 names), minutes under qemu (60,000).
  assert.ok(ms < (emulated ? 60_000 : 15_000), `${ms} ms`);
});
