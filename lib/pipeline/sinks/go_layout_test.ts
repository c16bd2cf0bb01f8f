import assert from "node:assert/strict";
import {
  goEndRun,
  goExitCode,
  goExitLine,
  goLineText,
  goNewRun,
  goRunStamp,
  isGoSpace,
  trimGoSpace,
} from "./go_layout.ts";

Deno.test("goLineText() removes Go markers, then trims", () => {
  assert.equal(goLineText("hello {{cnt}} world"), "hello  world");
  assert.equal(goLineText("   padded   "), "padded");
  assert.equal(goLineText("a\tb  "), "a\tb");
  assert.equal(goLineText("{{x}}"), "");
  assert.equal(goLineText("   "), "");
  assert.equal(goLineText("{{1abc}} {{_u}} {{e:}} {{s:007}}"), "");
  assert.equal(goLineText("keep {{v:abc}} {{a.b}} {{z:1.5}} "), "keep {{v:abc}} {{a.b}} {{z:1.5}}");
});

Deno.test("goLineText() trims a block as a whole and keeps its inner newlines and indentation", () => {
  assert.equal(goLineText("  inner one\n  inner two {{blk}}\n"), "inner one\n  inner two");
});

Deno.test("goLineText() keeps markers when asked to", () => {
  assert.equal(goLineText(" a {{x}} ", { removeMarkers: false }), "a {{x}}");
});

Deno.test("goLineText() trims a split line as a whole: the first part's start, the last part's end", () => {
  assert.equal(goLineText("  first ", { split: { part: 1, last: false } }), "first ");
  assert.equal(goLineText(" middle ", { split: { part: 2, last: false } }), " middle ");
  assert.equal(goLineText(" last  ", { split: { part: 3, last: true } }), " last");
});

Deno.test("trimGoSpace() trims what Go's unicode.IsSpace calls space, not what JavaScript does", () => {
  assert.equal(trimGoSpace("\u0085\u00a0\u3000\u2028 x \v\f\r\n\t\u205f"), "x");
  assert.equal(trimGoSpace("\ufeffx\ufeff"), "\ufeffx\ufeff", "U+FEFF is no space for Go");
  assert.equal(trimGoSpace("  x  ", { end: false }), "x  ");
  assert.equal(trimGoSpace("  x  ", { start: false }), "  x");
  assert.ok(isGoSpace(0x1680) && isGoSpace(0x200a) && !isGoSpace(0x200b) && !isGoSpace(0x41));
});

Deno.test("trimGoSpace() stays linear on a long run of inner spaces", () => {
  const text = "a" + " ".repeat(1_000_000) + "b";
  const started = performance.now();
  assert.equal(trimGoSpace(text), text);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("the run separators and the exit line read as the Go wrapp's, in local time", () => {
  const time = new Date(2026, 11, 5, 13, 18, 15, 999).getTime();
  assert.equal(goRunStamp(time), "2026-12-05_13-18-15");
  assert.equal(goNewRun(time), "{{__NEW_RUN_2026-12-05_13-18-15}}");
  assert.equal(goEndRun(time + 1500, 3), "{{__END_RUN_2026-12-05_13-18-17_exit_3}}");
  assert.equal(goEndRun(time, -1), "{{__END_RUN_2026-12-05_13-18-15_exit_-1}}");
  assert.equal(goExitLine(3), "Executable exited with code 3.");
  assert.equal(goRunStamp(new Date(2027, 0, 2, 3, 4, 5).getTime()), "2027-01-02_03-04-05");
});

Deno.test("goExitCode() is the exit code, -1 for a signal, undefined for no run", () => {
  assert.equal(goExitCode({ exit_code: 3, pid: 1 }), 3);
  assert.equal(goExitCode({ exit_code: 0 }), 0);
  assert.equal(goExitCode({ signal: "SIGKILL" }), -1);
  assert.equal(goExitCode({ run: "r" }), undefined);
});
