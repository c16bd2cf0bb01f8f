import assert from "node:assert/strict";
import { elfSymbolsFromBytes, readElfSymbols } from "./elf_symbols.ts";

const CI = Deno.env.get("CI") === "true";

async function run(program: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

async function available(...programs: string[]): Promise<boolean> {
  for (const program of programs) {
    try {
      if ((await run(program, ["--version"])).code !== 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}

const SOURCE = `
__attribute__((noinline)) int first_function(int x) { return x * 3 + 1; }
__attribute__((noinline)) int second_function(int x) { return first_function(x) + 7; }
int main(int argc, char **argv) { (void)argv; return second_function(argc); }
`;

/** `nm` addresses of the program's own functions. */
async function nmAddresses(path: string): Promise<Map<string, number>> {
  const { stdout } = await run("nm", ["--defined-only", path]);
  const map = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const [address, type, name] = line.trim().split(/\s+/);
    if ((type === "T" || type === "t") && name) map.set(name, parseInt(address, 16));
  }
  return map;
}

const toolchain = await available("gcc", "nm", "objcopy", "strip");

Deno.test({
  name: "readElfSymbols() finds the functions nm lists, by address inside them",
  // Ignored without gcc and binutils on a developer's machine; under CI that is a failure.
  ignore: !toolchain && !CI,
  fn: async () => {
    if (!toolchain) {
      throw new Error("gcc and binutils are needed for this test (apt-get install gcc)");
    }
    const dir = await Deno.makeTempDir({ prefix: "wrapp-elf-symbols-" });
    try {
      await Deno.writeTextFile(`${dir}/a.c`, SOURCE);
      assert.equal(
        (await run("gcc", ["-O1", "-Wl,--build-id", "-o", `${dir}/a`, `${dir}/a.c`])).code,
        0,
      );
      const expected = await nmAddresses(`${dir}/a`);
      const table = await readElfSymbols(`${dir}/a`);
      assert.equal(table.hasSymtab, true);
      assert.match(table.buildId ?? "", /^[0-9a-f]{40}$/);
      for (const name of ["first_function", "second_function", "main"]) {
        const vaddr = expected.get(name)!;
        assert.equal(table.lookup(vaddr)?.name, name);
        assert.equal(table.lookup(vaddr + 1)?.name, name);
        const symbol = table.lookup(vaddr)!;
        assert.ok(symbol.size > 0);
        // A PIE's text is loaded at vaddr == file offset plus the segment's difference.
        assert.equal(table.vaddrOfOffset(symbol.fileOffset!), vaddr);
      }
      assert.equal(table.lookup(0), undefined);

      // Stripped: only .dynsym (main is not exported); the debug file restores the rest.
      await run("objcopy", ["--only-keep-debug", `${dir}/a`, `${dir}/a.debug`]);
      await run("strip", ["-s", `${dir}/a`]);
      const stripped = await readElfSymbols(`${dir}/a`, { debugDirs: [] });
      assert.equal(stripped.hasSymtab, false);
      assert.equal(stripped.lookup(expected.get("first_function")!), undefined);
      const id = table.buildId!;
      await Deno.mkdir(`${dir}/debug/.build-id/${id.slice(0, 2)}`, { recursive: true });
      await Deno.rename(
        `${dir}/a.debug`,
        `${dir}/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`,
      );
      const restored = await readElfSymbols(`${dir}/a`, { debugDirs: [`${dir}/debug`] });
      assert.equal(restored.hasSymtab, true);
      assert.equal(restored.lookup(expected.get("first_function")! + 2)?.name, "first_function");
      assert.equal(
        restored.lookup(expected.get("main")!)?.fileOffset,
        table.lookup(expected.get("main")!)?.fileOffset,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const libc = /\s(\/\S*libc\.so\.6)$/m.exec(await Deno.readTextFile("/proc/self/maps"))?.[1];

Deno.test({
  name: "readElfSymbols() reads the exported functions of the C library",
  // A static or musl build of Deno maps no libc.so.6: ignored on a developer's machine,
  // a failure under CI.
  ignore: !libc && !CI,
  fn: async () => {
    if (!libc) throw new Error("no libc.so.6 in /proc/self/maps (CI=true)");
    const table = await readElfSymbols(libc);
    assert.ok(table.size > 500, `only ${table.size} functions in ${libc}`);
  },
});

Deno.test("elfSymbolsFromBytes() refuses bytes that are not ELF", async () => {
  await assert.rejects(
    () => elfSymbolsFromBytes(new TextEncoder().encode("#!/bin/sh\necho hi\n"), "script"),
    SyntaxError,
  );
});

Deno.test("readElfSymbols() names the file it cannot read", async () => {
  await assert.rejects(() => readElfSymbols("/nonexistent/lib.so"), {
    message: 'Cannot read "/nonexistent/lib.so": no such file or directory',
  });
});
