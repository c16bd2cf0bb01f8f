import assert from "node:assert/strict";
import type { LogEvent } from "../../core/event.ts";
import { MultilineJoiner, type MultilineJoinerOptions } from "./join_multiline.ts";

/** Push each text as a line at time 1000 + its index; returns every event. */
function join(texts: string[], options?: MultilineJoinerOptions): LogEvent[] {
  const joiner = new MultilineJoiner("stdout", options);
  return texts.flatMap((text, i) => joiner.push({ text }, 1000 + i));
}

const log = (text: string, time: number, extra: Partial<LogEvent> = {}): LogEvent => ({
  kind: "log",
  stream: "stdout",
  text,
  time,
  ...extra,
});

Deno.test("MultilineJoiner passes lines outside a block through as log events", () => {
  const joiner = new MultilineJoiner("stderr");
  assert.deepEqual(joiner.push({ text: "hello" }, 5), [
    { kind: "log", stream: "stderr", text: "hello", time: 5 },
  ]);
  assert.deepEqual(joiner.push({ text: "" }, 6), [
    { kind: "log", stream: "stderr", text: "", time: 6 },
  ]);
  assert.equal(joiner.open, false);
});

Deno.test("MultilineJoiner keeps the split field of a plain line", () => {
  const joiner = new MultilineJoiner("stdout");
  assert.deepEqual(joiner.push({ text: "abc", split: { part: 1, last: false } }, 1), [
    log("abc", 1, { split: { part: 1, last: false } }),
  ]);
});

Deno.test("MultilineJoiner joins a block into one event with the opening line's time", () => {
  assert.deepEqual(join([">>|", "Traceback:", "  line 1", "", "  line 2", "|<<", "after"]), [
    log("Traceback:\n  line 1\n\n  line 2", 1000, { lines: 6 }),
    log("after", 1006),
  ]);
});

Deno.test("MultilineJoiner keeps text around the delimiters in the block", () => {
  assert.deepEqual(join(["Error: >>|  detail", "more", "end|<< done"]), [
    log("Error:   detail\nmore\nend done", 1000, { lines: 3 }),
  ]);
});

Deno.test("MultilineJoiner drops lines left whitespace-only by removing a delimiter", () => {
  assert.deepEqual(join(["  >>|  ", "a", "\t|<<"]), [log("a", 1000, { lines: 3 })]);
});

Deno.test("MultilineJoiner makes a one-line block of a line with opener and closer", () => {
  const joiner = new MultilineJoiner("stdout");
  assert.deepEqual(joiner.push({ text: "x >>|inside|<< y" }, 7), [
    log("x inside y", 7, { lines: 1 }),
  ]);
  assert.equal(joiner.open, false);
  assert.deepEqual(join([">>||<<"]), [log("", 1000, { lines: 1 })]);
});

Deno.test("MultilineJoiner treats an opener inside a block as content (no nesting)", () => {
  assert.deepEqual(join([">>|", "outer", ">>| inner", "|<<", "after", "|<<"]), [
    log("outer\n>>| inner", 1000, { lines: 4 }),
    log("after", 1004),
    log("|<<", 1005),
  ]);
});

Deno.test("MultilineJoiner treats a closer without an opener as plain text", () => {
  assert.deepEqual(join(["done |<<", "|<<"]), [log("done |<<", 1000), log("|<<", 1001)]);
});

Deno.test("MultilineJoiner reports open while a block is held", () => {
  const joiner = new MultilineJoiner("stdout");
  assert.deepEqual(joiner.push({ text: ">>| a" }, 1), []);
  assert.equal(joiner.open, true);
  assert.deepEqual(joiner.push({ text: "b" }, 2), []);
  assert.equal(joiner.push({ text: "|<<" }, 3).length, 1);
  assert.equal(joiner.open, false);
});

Deno.test("MultilineJoiner flushes a block still open at exit as unterminated exit", () => {
  const joiner = new MultilineJoiner("stdout");
  joiner.push({ text: ">>|" }, 1);
  joiner.push({ text: "a" }, 2);
  assert.deepEqual(joiner.end(3), [log("a", 1, { lines: 2, unterminated: "exit" })]);
  assert.equal(joiner.open, false);
  assert.deepEqual(joiner.end(4), []);
});

Deno.test("MultilineJoiner end() labels a block already past its timeout as time", () => {
  const joiner = new MultilineJoiner("stdout", { timeoutMs: 100 });
  joiner.push({ text: ">>| a" }, 0);
  assert.deepEqual(joiner.end(100), [log(" a", 0, { lines: 1, unterminated: "time" })]);
});

Deno.test("MultilineJoiner flushes at maxLines and continues with plain lines", () => {
  assert.deepEqual(join([">>|", "a", "b", "c", "|<<"], { maxLines: 3 }), [
    log("a\nb", 1000, { lines: 3, unterminated: "lines" }),
    log("c", 1003),
    log("|<<", 1004),
  ]);
});

Deno.test("MultilineJoiner closes a block normally when the closer is the maxLines-th line", () => {
  assert.deepEqual(join([">>|", "a", "|<<"], { maxLines: 3 }), [log("a", 1000, { lines: 3 })]);
});

Deno.test("MultilineJoiner flushes before a line that would pass maxBytes", () => {
  // "aaaa\nbbbb" is 9 bytes; adding "\ncc" would make 12 > 10.
  assert.deepEqual(join([">>| aaaa", "bbbb", "cc", ">>| dd|<<"], { maxBytes: 10 }), [
    log(" aaaa\nbbbb", 1000, { lines: 2, unterminated: "bytes" }),
    log("cc", 1002),
    log(" dd", 1003, { lines: 1 }),
  ]);
});

Deno.test("MultilineJoiner counts maxBytes in UTF-8 bytes", () => {
  // "€€" is 6 bytes; "\n€" would add 4 more, past 9.
  assert.deepEqual(join([">>|€€", "€", "|<<"], { maxBytes: 9 }), [
    log("€€", 1000, { lines: 1, unterminated: "bytes" }),
    log("€", 1001),
    log("|<<", 1002),
  ]);
});

Deno.test("MultilineJoiner flushes a first line that alone passes maxBytes", () => {
  assert.deepEqual(join([">>| 0123456789", "next"], { maxBytes: 5 }), [
    log(" 0123456789", 1000, { lines: 1, unterminated: "bytes" }),
    log("next", 1001),
  ]);
});

Deno.test("MultilineJoiner tick() flushes a block only once it reaches the timeout", () => {
  const joiner = new MultilineJoiner("stdout", { timeoutMs: 5000 });
  assert.deepEqual(joiner.tick(0), []);
  joiner.push({ text: ">>|" }, 1000);
  joiner.push({ text: "a" }, 3000);
  assert.deepEqual(joiner.tick(5999), []);
  assert.equal(joiner.open, true);
  assert.deepEqual(joiner.tick(6000), [log("a", 1000, { lines: 2, unterminated: "time" })]);
  assert.equal(joiner.open, false);
  assert.deepEqual(joiner.tick(9000), []);
  assert.deepEqual(joiner.push({ text: "|<<" }, 9001), [log("|<<", 9001)]);
});

Deno.test("MultilineJoiner deadline is the open block's start plus the timeout, undefined when none is open", () => {
  const joiner = new MultilineJoiner("stdout", { timeoutMs: 5000 });
  assert.equal(joiner.deadline, undefined);
  joiner.push({ text: ">>|" }, 1000);
  joiner.push({ text: "a" }, 3000);
  assert.equal(joiner.deadline, 6000);
  joiner.push({ text: "|<<" }, 3500);
  assert.equal(joiner.deadline, undefined);
  joiner.push({ text: ">>| b" }, 7000);
  assert.equal(joiner.deadline, 12000);
});

Deno.test("MultilineJoiner push() flushes a timed-out block before taking the line", () => {
  const joiner = new MultilineJoiner("stdout", { timeoutMs: 100 });
  joiner.push({ text: ">>| a" }, 0);
  assert.deepEqual(joiner.push({ text: "late" }, 150), [
    log(" a", 0, { lines: 1, unterminated: "time" }),
    log("late", 150),
  ]);
});

Deno.test("MultilineJoiner treats split parts inside a block as content", () => {
  const joiner = new MultilineJoiner("stdout");
  joiner.push({ text: ">>|" }, 1);
  joiner.push({ text: "abcd", split: { part: 1, last: false } }, 1);
  joiner.push({ text: "ef", split: { part: 2, last: true } }, 1);
  assert.deepEqual(joiner.push({ text: "|<<" }, 2), [log("abcd\nef", 1, { lines: 4 })]);
});

Deno.test("MultilineJoiner uses custom delimiters, also when both are the same", () => {
  assert.deepEqual(join(["BEGIN", "x", "END"], { start: "BEGIN", end: "END" }), [
    log("x", 1000, { lines: 3 }),
  ]);
  assert.deepEqual(join(["```", "code", "```", "after"], { start: "```", end: "```" }), [
    log("code", 1000, { lines: 3 }),
    log("after", 1003),
  ]);
});

Deno.test("MultilineJoiner rejects invalid options", () => {
  assert.throws(() => new MultilineJoiner("stdout", { start: "" }), RangeError);
  assert.throws(() => new MultilineJoiner("stdout", { maxLines: 0 }), RangeError);
  assert.throws(() => new MultilineJoiner("stdout", { maxBytes: -1 }), RangeError);
  assert.throws(() => new MultilineJoiner("stdout", { timeoutMs: NaN }), RangeError);
});
