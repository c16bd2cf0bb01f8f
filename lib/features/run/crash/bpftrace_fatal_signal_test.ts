import assert from "node:assert/strict";
import { fatalSignalBpftraceProgram, fatalSignalMessageReader } from "./bpftrace_fatal_signal.ts";
import type { FatalSignalLine } from "./fatal_signal_line.ts";
import { fatalSignalProgramText } from "./fatal_signal_program.ts";
import { findLoader } from "./find_loader.ts";

Deno.test("fatalSignalMessageReader() passes printf lines on, and a signal with the stack printed after it", () => {
  const seen: Array<[FatalSignalLine, number[]]> = [];
  const read = fatalSignalMessageReader((line, addresses) => seen.push([line, addresses]));
  read({ type: "printf", text: "E 812\nM 812\nhello\n" });
  read({ type: "printf", text: "S 812 813 11 0\n" });
  assert.equal(seen.length, 2, "the signal waits for its stack");
  read({ type: "other", kind: "value", data: "\n        7f0000001139\n        55d0c8a01000\n" });
  read({ type: "printf", text: "X 812\n" });
  assert.deepEqual(seen, [
    [{ kind: "exec", pid: 812 }, []],
    [{ kind: "maps", pid: 812 }, []],
    [{ kind: "signal", pid: 812, tid: 813, signal: 11, result: 0 }, [
      0x7f0000001139,
      0x55d0c8a01000,
    ]],
    [{ kind: "exit", pid: 812 }, []],
  ]);
});

Deno.test("fatalSignalMessageReader() drops a stack without a signal, and a signal whose stack is not text", () => {
  const seen: FatalSignalLine[] = [];
  const read = fatalSignalMessageReader((line) => seen.push(line));
  read({ type: "other", kind: "value", data: "7f00\n" });
  read({ type: "printf", text: "S 1 2 6 0" });
  read({ type: "other", kind: "value", data: 42 });
  read({ type: "other", kind: "value", data: "7f00\n" });
  assert.deepEqual(seen, []);
});

Deno.test("fatalSignalBpftraceProgram() hooks wrapp's own dynamic loader", async () => {
  const own = findLoader(await Deno.readTextFile("/proc/self/maps"));
  const program = await fatalSignalBpftraceProgram();
  assert.equal(program.text, fatalSignalProgramText(own?.path).text);
  assert.equal(program.hookedLoaderKey, own?.key);
});
