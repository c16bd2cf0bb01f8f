import assert from "node:assert/strict";
import { join } from "node:path";
import type { Event, LogEvent, MetricEvent, StatusEvent } from "../../core/event.ts";
import { SinkError } from "../../core/errors.ts";
import { checkTraceFileText } from "../tef/perfetto_rules.ts";
import { TRACE_TRACKS, TraceEventFileSink } from "./trace_event_file.ts";

interface TefEvent {
  ph: string;
  ts?: number;
  pid: number;
  tid?: number;
  name?: string;
  cat?: string;
  s?: string;
  args?: Record<string, unknown>;
}

const T0 = 1_700_000_000_000; // ms since the epoch

async function withSink(
  body: (sink: TraceEventFileSink, runDir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-trace-sink-test-" });
  const runDir = join(dir, "svc", "run-1");
  const sink = await TraceEventFileSink.open({
    runDir,
    processName: "svc",
    pid: 4242,
    runId: "run-1",
  });
  try {
    await body(sink, runDir);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function status(
  phase: StatusEvent["phase"],
  offsetMs: number,
  fields: StatusEvent["fields"] = {},
): StatusEvent {
  return { kind: "status", phase, message: `${phase} message`, fields, time: T0 + offsetMs };
}

function log(
  stream: LogEvent["stream"],
  text: string,
  offsetMs: number,
  extra: Partial<LogEvent> = {},
): LogEvent {
  return { kind: "log", stream, text, time: T0 + offsetMs, ...extra };
}

function metric(
  name: string,
  value: string,
  numeric: number | undefined,
  offsetMs: number,
): MetricEvent {
  return { kind: "metric", name, op: "set", value, numeric, stream: "stdout", time: T0 + offsetMs };
}

/** Close the sink, check the trace against Perfetto's rules and return its events. */
async function closedTrace(sink: TraceEventFileSink): Promise<TefEvent[]> {
  await sink.close();
  const text = await Deno.readTextFile(sink.tracePath);
  assert.deepEqual(checkTraceFileText(text), []);
  return JSON.parse(text);
}

const withoutMetadata = (events: TefEvent[]) => events.filter((e) => e.ph !== "M");

Deno.test("TraceEventFileSink writes a Perfetto-valid trace with named tracks for stdout and stderr", async () => {
  await withSink(async (sink, runDir) => {
    sink.write([
      status("start", 0, { run: "run-1", pid: 99 }),
      log("stdout", "hello", 1),
      log("stderr", "oops", 2),
      metric("temp", "21.5", 21.5, 3),
      status("exit", 4, { exit_code: 0 }),
    ]);
    const events = await closedTrace(sink);
    assert.equal(sink.tracePath, join(runDir, "trace.json"));
    assert.equal(sink.jsonlPath, join(runDir, "events.jsonl"));

    const names = Object.fromEntries(
      events.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args?.name]),
    );
    assert.deepEqual(names, {
      1: "run",
      2: "stdout",
      3: "stderr",
      4: "status",
      5: "markers",
      6: "crash",
    });
    assert.deepEqual(events[0], {
      ph: "M",
      pid: 4242,
      name: "process_name",
      args: { name: "svc" },
    });
    assert.ok(
      events.some((e) => e.name === "thread_sort_index" && e.tid === 3 && e.args?.sort_index === 3),
    );

    assert.deepEqual(withoutMetadata(events), [
      {
        ph: "B",
        ts: T0 * 1000,
        pid: 4242,
        tid: 1,
        name: "run run-1",
        cat: "run",
        args: { run: "run-1", pid: 99 },
      },
      {
        ph: "i",
        ts: T0 * 1000 + 1000,
        pid: 4242,
        tid: 2,
        name: "hello",
        cat: "stdout",
        s: "t",
        args: { text: "hello" },
      },
      {
        ph: "i",
        ts: T0 * 1000 + 2000,
        pid: 4242,
        tid: 3,
        name: "oops",
        cat: "stderr",
        s: "t",
        args: { text: "oops" },
      },
      { ph: "C", ts: T0 * 1000 + 3000, pid: 4242, tid: 5, name: "temp", args: { value: 21.5 } },
      { ph: "E", ts: T0 * 1000 + 4000, pid: 4242, tid: 1, args: { exit_code: 0 } },
    ]);
    assert.deepEqual(sink.stats(), { received: 5, sent: 5, dropped: 0, errors: 0 });
    assert.deepEqual(sink.assembled, { events: 18, skipped: 0 });
    assert.equal(await sink.healthCheck(), undefined);
  });
});

Deno.test("TraceEventFileSink names a block after its first line and keeps the details in args", async () => {
  await withSink(async (sink) => {
    const long = "x".repeat(200);
    sink.write([
      log("stdout", "first line\nsecond line", 0, { lines: 2, unterminated: "time" }),
      log("stderr", long, 1, { split: { part: 1, last: false } }),
      log("stdout", "🙂".repeat(100), 2),
    ]);
    const [block, part, emoji] = withoutMetadata(await closedTrace(sink));
    assert.equal(block.name, "first line");
    assert.deepEqual(block.args, {
      text: "first line\nsecond line",
      lines: 2,
      unterminated: "time",
    });
    assert.equal(part.name, "x".repeat(119) + "…");
    assert.deepEqual(part.args, { text: long, part: 1, last: false });
    assert.ok(emoji.name!.length <= 120);
    assert.ok(!/[\uD800-\uDBFF]…$/.test(emoji.name!), "no half surrogate pair before the ellipsis");
  });
});

Deno.test("TraceEventFileSink writes non-numeric markers and other status as instants", async () => {
  await withSink(async (sink) => {
    sink.write([
      metric("mode", "fast", undefined, 0),
      metric("inf", "1e999", Infinity, 1),
      status("warning", 2, { n: 1 }),
    ]);
    assert.deepEqual(
      withoutMetadata(await closedTrace(sink)).map((e) => [e.ph, e.tid, e.name, e.cat]),
      [
        ["i", TRACE_TRACKS.markers, "mode=fast", "marker"],
        ["i", TRACE_TRACKS.markers, "inf=1e999", "marker"],
        ["i", TRACE_TRACKS.status, "warning message", "warning"],
      ],
    );
  });
});

Deno.test("TraceEventFileSink close() ends a run whose exit status never came", async () => {
  await withSink(async (sink) => {
    sink.write([status("start", 0), log("stdout", "working", 1)]);
    const run = withoutMetadata(await closedTrace(sink)).filter((e) => e.tid === TRACE_TRACKS.run);
    assert.deepEqual(run.map((e) => [e.ph, e.args]), [["B", {}], ["E", {
      reason: "wrapp stopped",
    }]]);
  });
});

Deno.test("TraceEventFileSink keeps B and E balanced for an exit without a start and a start twice", async () => {
  await withSink(async (sink) => {
    sink.write([
      status("exit", 0, { reason: "spawn failed" }),
      status("start", 1),
      status("start", 2),
      status("exit", 3),
    ]);
    const events = withoutMetadata(await closedTrace(sink));
    assert.deepEqual(events.map((e) => [e.ph, e.tid]), [["i", 4], ["B", 1], ["E", 1], ["B", 1], [
      "E",
      1,
    ]]);
  });
});

Deno.test("TraceEventFileSink close() twice is harmless and later writes are counted as dropped", async () => {
  await withSink(async (sink) => {
    sink.write([status("start", 0), status("exit", 1)]);
    await Promise.all([sink.close(), sink.close()]);
    await sink.close();
    const events = JSON.parse(await Deno.readTextFile(sink.tracePath)) as TefEvent[];
    assert.equal(events.filter((e) => e.ph === "E").length, 1);
    sink.write([log("stdout", "late", 2)]);
    assert.deepEqual(sink.stats(), { received: 3, sent: 2, dropped: 1, errors: 0 });
    assert.match((await sink.healthCheck())!, /closed/);
  });
});

Deno.test("TraceEventFileSink flush() resolves once every accepted batch is on disk", async () => {
  await withSink(async (sink) => {
    for (let i = 0; i < 100; i++) sink.write([log("stdout", `line ${i}`, i)]);
    await sink.flush();
    const lines = (await Deno.readTextFile(sink.jsonlPath)).trimEnd().split("\n");
    assert.equal(lines.length, 13 + 100); // process name, 6 × (thread name, sort index), events
    assert.equal(JSON.parse(lines[lines.length - 1]).args.text, "line 99");
    assert.equal(sink.stats().sent, 100);
  });
});

Deno.test("TraceEventFileSink holds the producer back above 1 Mi queued characters, and never drops a burst", async () => {
  await withSink(async (sink) => {
    assert.equal(sink.waitForCapacity(), undefined);
    // One 64 KiB read of empty lines: 65,536 events, ~7 Mi characters of TEF, in 4096-event batches.
    let holds = 0;
    for (let batch = 0; batch < 16; batch++) {
      sink.write(Array.from({ length: 4096 }, (_, i) => log("stdout", "", batch * 4096 + i)));
      if (sink.waitForCapacity()) holds++;
    }
    assert.ok(holds >= 14, `held back after ${16 - holds} of 16 batches, expected from the 2nd`);
    const wait = sink.waitForCapacity();
    assert.ok(wait, "still holding while ~7 Mi characters wait");
    await wait;
    assert.equal(sink.waitForCapacity(), undefined);
    await sink.flush();
    assert.deepEqual([sink.stats().sent, sink.stats().dropped], [65_536, 0]);
  });
});

Deno.test("TraceEventFileSink handles 100,000 events in large batches, in order", async () => {
  // Fewer under qemu (the aarch64 lane sets WRAPP_TEST_EMULATED), where this is ~40x slower.
  const count = Deno.env.get("WRAPP_TEST_EMULATED") === "1" ? 10_000 : 100_000;
  await withSink(async (sink) => {
    const batch: Event[] = [];
    for (let i = 0; i < count; i++) {
      batch.push(log(i % 2 ? "stderr" : "stdout", `line ${i}`, i / 10));
      if (batch.length === 4096) sink.write(batch.splice(0));
    }
    sink.write(batch);
    const events = withoutMetadata(await closedTrace(sink));
    assert.equal(events.length, count);
    assert.ok(events.every((e, i) => e.args?.text === `line ${i}`));
    assert.equal(sink.stats().sent, count);
  });
});

Deno.test("TraceEventFileSink counts a failed write, reports it by health check and never throws", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-trace-sink-test-" });
  try {
    // /dev/full fails every write with ENOSPC, like a full disk.
    await Deno.symlink("/dev/full", join(dir, "events.jsonl"));
    const sink = await TraceEventFileSink.open({
      runDir: dir,
      processName: "svc",
      pid: 1,
      runId: "r",
    });
    sink.write([log("stdout", "a", 0), log("stdout", "b", 1)]);
    await sink.flush();
    sink.write([log("stdout", "c", 2)]);
    await sink.flush();
    // Three failed writes: the metadata, then each batch.
    assert.deepEqual(sink.stats(), { received: 3, sent: 0, dropped: 3, errors: 3 });
    assert.match(
      (await sink.healthCheck())!,
      /^Cannot write trace file ".*events\.jsonl": .+ \(3 failed, 3 events dropped\)$/,
    );
    // Assemble from a readable file: /dev/full reads as endless zeros.
    await Deno.remove(join(dir, "events.jsonl"));
    await Deno.writeTextFile(join(dir, "events.jsonl"), "");
    await sink.close();
    assert.deepEqual(checkTraceFileText(await Deno.readTextFile(sink.tracePath)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TraceEventFileSink.open() reports a folder it cannot create as a SinkError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-trace-sink-test-" });
  try {
    await Deno.writeTextFile(join(dir, "file"), "");
    const runDir = join(dir, "file", "run");
    const error = await TraceEventFileSink.open({ runDir, processName: "svc", pid: 1, runId: "r" })
      .catch((e) => e);
    assert.ok(error instanceof SinkError);
    assert.ok(error.message.startsWith(`Cannot create trace folder "${runDir}": `), error.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
