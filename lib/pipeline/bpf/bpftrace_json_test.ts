import assert from "node:assert/strict";
import { asStats, mapKeyNumbers, parseBpftraceLine } from "./bpftrace_json.ts";

Deno.test("parseBpftraceLine() reads printf, probes and lost events", () => {
  assert.deepEqual(parseBpftraceLine('{"type": "attached_probes", "data": {"probes": 7}}'), {
    type: "attached_probes",
    probes: 7,
  });
  assert.deepEqual(parseBpftraceLine('{"type": "printf", "data": "R 123\\n"}'), {
    type: "printf",
    text: "R 123\n",
  });
  assert.deepEqual(parseBpftraceLine('{"type": "lost_events", "data": {"events": 12}}'), {
    type: "lost_events",
    events: 12,
  });
});

Deno.test("parseBpftraceLine() reads keyed maps, stats and keyless values", () => {
  const stats = parseBpftraceLine(
    '{"type": "stats", "data": {"@lat": {"0,257,40": {"count": 2, "average": 6, "total": 12}}}}',
  );
  assert.deepEqual(stats, {
    type: "map",
    format: "stats",
    name: "@lat",
    entries: { "0,257,40": { count: 2, average: 6, total: 12 } },
  });
  assert.deepEqual(parseBpftraceLine('{"type": "map", "data": {"@err": {"0,257,2": 5}}}'), {
    type: "map",
    format: "map",
    name: "@err",
    entries: { "0,257,2": 5 },
  });
  assert.deepEqual(parseBpftraceLine('{"type": "map", "data": {"@n": 3}}'), {
    type: "map",
    format: "map",
    name: "@n",
    entries: { "": 3 },
  });
  assert.deepEqual(
    parseBpftraceLine('{"type": "stats", "data": {"@s": {"count": 1, "average": 2, "total": 2}}}'),
    {
      type: "map",
      format: "stats",
      name: "@s",
      entries: { "": { count: 1, average: 2, total: 2 } },
    },
  );
});

Deno.test("parseBpftraceLine() skips blank lines and keeps unknown types", () => {
  assert.equal(parseBpftraceLine(""), undefined);
  assert.equal(parseBpftraceLine("   "), undefined);
  assert.deepEqual(parseBpftraceLine('{"type": "time", "data": "12:00:00\\n"}'), {
    type: "other",
    kind: "time",
    data: "12:00:00\n",
  });
});

Deno.test("parseBpftraceLine() throws a SyntaxError quoting a line that is not bpftrace JSON", () => {
  assert.throws(() => parseBpftraceLine("Attaching 7 probes..."), {
    name: "SyntaxError",
    message: 'Unexpected bpftrace output "Attaching 7 probes...": not JSON',
  });
  assert.throws(() => parseBpftraceLine("[1]"), SyntaxError);
  assert.throws(() => parseBpftraceLine('{"data": 1}'), SyntaxError);
});

Deno.test("asStats() and mapKeyNumbers() read stats values and tuple keys", () => {
  assert.deepEqual(asStats({ count: 2, average: 6, total: 12 }), {
    count: 2,
    average: 6,
    total: 12,
  });
  assert.equal(asStats(5), undefined);
  assert.deepEqual(mapKeyNumbers("0,257,40"), [0, 257, 40]);
  assert.deepEqual(mapKeyNumbers(""), []);
});
