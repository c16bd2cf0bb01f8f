import assert from "node:assert/strict";
import {
  FATAL_SIGNAL_NUMBERS,
  FATAL_SIGNAL_PROGRAM,
  fatalSignalProgramText,
} from "./fatal_signal_program.ts";

Deno.test("the embedded program is bpf/fatal_signal.bt and watches the core signals", async () => {
  const text = await Deno.readTextFile(new URL("../../../../bpf/fatal_signal.bt", import.meta.url));
  assert.equal(FATAL_SIGNAL_PROGRAM.text, text);
  for (const tracepoint of FATAL_SIGNAL_PROGRAM.tracepoints) {
    assert.ok(text.includes(`tracepoint:${tracepoint}`), tracepoint);
  }
  for (const signal of FATAL_SIGNAL_NUMBERS) {
    assert.ok(text.includes(`args->sig == ${signal}`), `signal ${signal}`);
  }
  // The loader hook: wrapp writes the loader's path in place of $3.
  assert.ok(text.includes("\nuprobe:$3:_dl_debug_state\n"));
});

Deno.test("fatalSignalProgramText() writes the loader's path in the uprobe, or leaves the probe out", () => {
  const loader = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
  const hooked = fatalSignalProgramText(loader);
  assert.equal(hooked.hooked, true);
  assert.ok(hooked.text.includes(`\nuprobe:${loader}:_dl_debug_state\n`));
  assert.ok(!hooked.text.includes("uprobe:$3"));
  for (const path of [undefined, "/opt/my loader/ld-linux.so.2", "ld.so"]) {
    const without = fatalSignalProgramText(path);
    assert.equal(without.hooked, false, String(path));
    assert.ok(!/^uprobe:/m.test(without.text), String(path));
    assert.ok(!without.text.includes('printf("M'), "its block is gone");
    // Only the probe's block goes: the rest of the program stays.
    const text = FATAL_SIGNAL_PROGRAM.text;
    const start = text.indexOf("\nuprobe:$3:") + 1;
    const end = text.indexOf("\n}\n", start) + 3;
    assert.equal(without.text, text.slice(0, start) + text.slice(end), String(path));
  }
});
