import assert from "node:assert/strict";
import { frameLabel, Symbolizer } from "./symbolizer.ts";
import { readElfSymbols } from "./elf_symbols.ts";
import { Demangler } from "./demangle.ts";

const CI = Deno.env.get("CI") === "true";

async function gcc(args: string[]): Promise<boolean> {
  try {
    const output = await new Deno.Command("gcc", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (CI) throw new Error("gcc is needed for this test (apt-get install gcc)");
      return false;
    }
    throw error;
  }
}

const SOURCE = `
__attribute__((noinline)) int alloc_here(int x) { return x * 3 + 1; }
namespace ns { __attribute__((noinline)) int cpp_function(int x) { return alloc_here(x) + 7; } }
int main(int argc, char **argv) { (void)argv; return ns::cpp_function(argc); }
`;

Deno.test("Symbolizer resolves own, system, anonymous and unknown addresses and follows new mappings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-symbolizer-" });
  try {
    await Deno.writeTextFile(`${dir}/a.cc`, SOURCE);
    if (!await gcc(["-x", "c++", "-O1", "-o", `${dir}/app`, `${dir}/a.cc`])) return;
    const table = await readElfSymbols(`${dir}/app`);
    const offsetOf = (mangled: string) => {
      for (let vaddr = 0; vaddr < 1 << 20; vaddr += 1) {
        const symbol = table.lookup(vaddr);
        if (symbol?.name === mangled) return symbol.fileOffset!;
      }
      throw new Error(`no ${mangled}`);
    };
    const own = 0x555500000000;
    const lib = 0x7f0000000000;
    const libc = /\s(\/\S*libc\.so\.6)$/m.exec(await Deno.readTextFile("/proc/self/maps"))?.[1];
    let maps = `${own.toString(16)}-${
      (own + 0x100000).toString(16)
    } r-xp 00000000 00:01 11 ${dir}/app
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
7ffe00000000-7ffe00001000 rwxp 00000000 00:00 0 
`;
    const symbolizer = new Symbolizer(1, { readMaps: () => Promise.resolve(maps) });
    await symbolizer.refreshMaps();
    const alloc = own + offsetOf("_Z10alloc_herei") + 3;
    const cpp = own + offsetOf("_ZN2ns12cpp_functionEi") + 5;
    const [stack] = await symbolizer.resolveStacks([[
      alloc,
      cpp,
      0x7ffd00000100,
      0x7ffe00000010,
      0xa64,
    ]]);
    assert.equal(stack[0].functionName, "alloc_here(int)");
    assert.equal(stack[0].executable, "app");
    assert.equal(stack[0].offset, offsetOf("_Z10alloc_herei"));
    assert.equal(stack[0].category, "nodeCpp");
    assert.equal(stack[1].functionName, "ns::cpp_function(int)");
    assert.equal(stack[2].executable, "[vdso]");
    assert.equal(stack[2].category, "systemLib");
    assert.equal(stack[3].executable, "[anon]");
    assert.equal(stack[4].executable, "[unknown]");
    assert.equal(stack[4].category, "unknown");
    assert.equal(frameLabel(stack[4]), "[unknown]+0xa64");

    if (libc) {
      // The process maps the C library later: the address outside every mapping re-reads them.
      const libcTable = await readElfSymbols(libc);
      let mallocOffset = 0;
      for (let vaddr = 0; vaddr < 1 << 22 && !mallocOffset; vaddr += 16) {
        if (libcTable.lookup(vaddr)?.name === "malloc") {
          mallocOffset = libcTable.lookup(vaddr)!.fileOffset!;
        }
      }
      assert.ok(mallocOffset > 0);
      maps += `${lib.toString(16)}-${
        (lib + 0x400000).toString(16)
      } r-xp 00000000 00:01 12 ${libc}\n`;
      const [again] = await symbolizer.resolveStacks([[lib + mallocOffset + 1, alloc]]);
      assert.equal(again[0].functionName, "malloc");
      assert.equal(again[0].category, "systemLib");
      assert.equal(again[0].executable, "libc.so.6");
      assert.equal(again[1].functionName, "alloc_here(int)");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Symbolizer looks return addresses up one byte earlier", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-symbolizer-" });
  try {
    await Deno.writeTextFile(
      `${dir}/a.c`,
      "int f(void){return 1;}\nint g(void){return 2;}\nint main(void){return f()+g();}\n",
    );
    if (!await gcc(["-O0", "-o", `${dir}/app`, `${dir}/a.c`])) return;
    const table = await readElfSymbols(`${dir}/app`);
    let g = 0;
    for (let vaddr = 0; vaddr < 1 << 20 && !g; vaddr++) {
      if (table.lookup(vaddr)?.name === "g") g = vaddr;
    }
    const base = 0x400000000;
    const maps = `${base.toString(16)}-${
      (base + 0x100000).toString(16)
    } r-xp 00000000 00:01 5 ${dir}/app\n`;
    const symbolizer = new Symbolizer(1, {
      readMaps: () => Promise.resolve(maps),
      demangler: new Demangler(),
    });
    await symbolizer.refreshMaps();
    const at = base + table.lookup(g)!.fileOffset!;
    // As frame 0 the first byte of g is g; as a return address it ends the caller, f.
    const [[first, caller]] = await symbolizer.resolveStacks([[at, at]]);
    assert.equal(first.functionName, "g");
    assert.equal(caller.functionName, "f");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
