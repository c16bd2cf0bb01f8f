import assert from "node:assert/strict";
import { formatProgressBar, formatProgressLine, ProgressDisplay } from "./progress_bar.ts";

Deno.test("formatProgressBar() fills the bar with the elapsed share of the duration", () => {
  const state = { elapsedMs: 4200, totalMs: 10_000, label: "redis-benchmark" };
  assert.equal(
    formatProgressBar(state, 80),
    `[${"#".repeat(12)}${"·".repeat(18)}]  4.2/10 s  redis-benchmark`,
  );
  assert.equal(
    formatProgressBar({ ...state, elapsedMs: 12_000, detail: "5 syscalls/s" }, 80),
    `[${"#".repeat(30)}]  12.0/10 s  redis-benchmark  5 syscalls/s`,
  );
  const narrow = formatProgressBar({ ...state, detail: "x".repeat(100) }, 40);
  assert.equal(narrow.length, 40);
  assert.ok(narrow.endsWith("…"));
});

Deno.test("formatProgressBar() without a duration moves a marker", () => {
  const a = formatProgressBar({ elapsedMs: 0, label: "cmd" }, 80);
  const b = formatProgressBar({ elapsedMs: 1000, label: "cmd" }, 80);
  assert.equal(a, `[#${"·".repeat(29)}]  0.0 s  cmd`);
  assert.equal(b, `[····#${"·".repeat(25)}]  1.0 s  cmd`);
});

Deno.test("formatProgressLine() is a plain line for logs", () => {
  assert.equal(
    formatProgressLine({ elapsedMs: 5012, totalMs: 10_000, label: "wrk", detail: "9 syscalls/s" }),
    "wrapp record: 5 s of 10 s, wrk, 9 syscalls/s",
  );
  assert.equal(formatProgressLine({ elapsedMs: 7000, label: "./app" }), "wrapp record: 7 s, ./app");
});

/** Wait for a condition (timers are slow under emulation). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(predicate(), "timed out");
}

Deno.test("ProgressDisplay redraws in place on a terminal and erases itself", async () => {
  const written: string[] = [];
  let elapsedMs = 0;
  const display = new ProgressDisplay(() => ({ elapsedMs, totalMs: 1000, label: "w" }), {
    write: (t) => written.push(t),
    terminal: true,
    columns: 81,
    redrawMs: 10,
  });
  elapsedMs = 500;
  await until(() => written.length >= 3);
  display.stop();
  display.stop();
  assert.ok(written.length >= 3, JSON.stringify(written));
  const bar = (done: number) => `\r[${"#".repeat(done)}${"·".repeat(30 - done)}]`;
  assert.equal(written[0], `${bar(0)}  0.0/1 s  w\x1b[K`);
  assert.equal(written.at(-2), `${bar(15)}  0.5/1 s  w\x1b[K`);
  assert.equal(written.at(-1), "\r\x1b[K");
});

Deno.test("ProgressDisplay writes a line now and then elsewhere, nothing to erase", async () => {
  const written: string[] = [];
  const display = new ProgressDisplay(() => ({ elapsedMs: 2000, label: "w" }), {
    write: (t) => written.push(t),
    terminal: false,
    lineEveryMs: 15,
  });
  await until(() => written.length >= 2);
  display.stop();
  assert.ok(written.every((line) => line === "wrapp record: 2 s, w\n"), JSON.stringify(written));
});
