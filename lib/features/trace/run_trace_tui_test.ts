import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { DemoFeed } from "./demo_feed.ts";
import { runTraceTui } from "./run_trace_tui.ts";

/** A terminal made of streams: what was written, and a keyboard. */
function fakeTerminal() {
  let written = "";
  const stdout = new Writable({
    write(chunk, _encoding, callback) {
      written += chunk.toString();
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stdout, { isTTY: true, columns: 100, rows: 30 });
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  Object.assign(stdin, { isTTY: true, setRawMode: () => stdin, ref: () => {}, unref: () => {} });
  return { stdout, stdin, written: () => written };
}

const size = () => ({ columns: 100, rows: 30 });

Deno.test({
  name: "runTraceTui() draws on the alternate screen, quits on q and gives the terminal back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const terminal = fakeTerminal();
    const feed = new DemoFeed({ arch: "x86_64", tickMs: 10 });
    const running = runTraceTui({ feed, tickMs: 10, size, ...terminal });
    while (feed.ticks < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    (terminal.stdin as unknown as PassThrough).write("q");
    const result = await running;
    assert.equal(result.quitBy, "key");
    const output = terminal.written();
    assert.ok(output.startsWith("\x1b[?1049h"), "entered the alternate screen first");
    assert.match(output, /top syscalls/);
    const end = output.slice(output.lastIndexOf("top syscalls"));
    assert.ok(end.includes("\x1b[?1049l"), "left the alternate screen after the last frame");
    assert.ok(end.includes("\x1b[?25h"), "showed the cursor");
  },
});

Deno.test({
  name: "runTraceTui() gives the terminal back and rethrows when the view fails",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const terminal = fakeTerminal();
    const feed = new DemoFeed({ arch: "x86_64", tickMs: 10 });
    const tick = feed.tick.bind(feed);
    feed.tick = () => {
      if (feed.ticks === 3) throw new Error("the feed broke");
      tick();
    };
    await assert.rejects(runTraceTui({ feed, tickMs: 10, size, ...terminal }), /the feed broke/);
    const output = terminal.written();
    const end = output.slice(output.lastIndexOf("top syscalls"));
    assert.ok(end.includes("\x1b[?1049l"), "left the alternate screen");
    assert.ok(end.includes("\x1b[?25h"), "showed the cursor");
  },
});
