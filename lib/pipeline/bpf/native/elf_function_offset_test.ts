import assert from "node:assert/strict";
import { functionFileOffset } from "./elf_function_offset.ts";

/** What `readelf ARGS PATH` prints. */
async function readelf(args: string[], path: string): Promise<string> {
  const output = await new Deno.Command("readelf", { args: [...args, path], stdout: "piped" })
    .output();
  assert.ok(output.success, `readelf ${args.join(" ")} ${path}`);
  return new TextDecoder().decode(output.stdout);
}

Deno.test("functionFileOffset() finds _dl_debug_state in this process's loader where readelf does", async () => {
  const maps = await Deno.readTextFile("/proc/self/maps");
  const path = /\s(\/\S*\/ld-[^/\s]*\.so[^/\s]*)$/m.exec(maps)?.[1];
  assert.ok(path, "deno has a dynamic loader");
  const loader = { path };
  const symbols = await readelf(["-Ws", "--dyn-syms"], loader.path);
  const symbol = /:\s+([0-9a-f]+)\s+\d+\s+FUNC\s+\w+\s+\w+\s+\d+\s+_dl_debug_state\b/.exec(symbols);
  assert.ok(symbol, "readelf lists _dl_debug_state");
  const vaddr = parseInt(symbol[1], 16);
  const segments = await readelf(["-lW"], loader.path);
  let expected: number | undefined;
  for (
    const m of segments.matchAll(/LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+\S+\s+0x([0-9a-f]+)/g)
  ) {
    const [offset, start, size] = [m[1], m[2], m[3]].map((hex) => parseInt(hex, 16));
    if (vaddr >= start && vaddr < start + size) expected = vaddr - start + offset;
  }
  const bytes = await Deno.readFile(loader.path);
  assert.equal(functionFileOffset(bytes, "_dl_debug_state"), expected);
  assert.equal(functionFileOffset(bytes, "_dl_debug_stat"), undefined, "a prefix is no match");
  assert.equal(functionFileOffset(bytes, "no_such_function_here"), undefined);
});

Deno.test("functionFileOffset() refuses what is not 64-bit little-endian ELF", () => {
  assert.throws(
    () => functionFileOffset(new TextEncoder().encode("#!/bin/sh\n".repeat(8)), "f"),
    SyntaxError,
  );
  const elf32 = new Uint8Array(64);
  elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
  assert.throws(() => functionFileOffset(elf32, "f"), /64-bit little-endian/);
});
