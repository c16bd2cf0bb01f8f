import assert from "node:assert/strict";
import {
  errnoNumbers,
  GENERATED_FILES,
  generateSyscallTables,
  HEADER_SOURCES,
  renderTable,
  REPOSITORY_ROOT,
  resolveMacro,
  syscallNumbers,
} from "./generate_syscall_tables.ts";

const macros = new Map([
  ["__NR_read", "63"],
  ["__NR3264_fcntl", "25"],
  ["__NR_fcntl", "__NR3264_fcntl"],
  ["__NR_syscalls", "451"],
  ["__NR_arch_specific_syscall", "244"],
  ["__NR_odd", "(__NR_read + 1)"],
  ["EAGAIN", "11"],
  ["EWOULDBLOCK", "EAGAIN"],
  ["ENOENT", "2"],
]);

Deno.test("resolveMacro() follows macros that name other macros", () => {
  assert.equal(resolveMacro(macros, "__NR_fcntl"), 25);
  assert.equal(resolveMacro(macros, "__NR_read"), 63);
  assert.equal(resolveMacro(macros, "__NR_odd"), undefined);
  assert.equal(resolveMacro(macros, "__NR_missing"), undefined);
});

Deno.test("syscallNumbers() keeps real syscalls only, in number order", () => {
  assert.deepEqual([...syscallNumbers(macros)], [[25, "fcntl"], [63, "read"]]);
});

Deno.test("errnoNumbers() leaves aliases out", () => {
  assert.deepEqual([...errnoNumbers(macros)], [[2, "ENOENT"], [11, "EAGAIN"]]);
});

Deno.test("renderTable() writes a frozen record, one entry a line", () => {
  const text = renderTable({
    constant: "T",
    doc: "Doc.",
    source: "here",
    table: new Map([[1, "a"], [2, "b"]]),
  });
  assert.match(
    text,
    /export const T: Readonly<Record<number, string>> = Object\.freeze\(\{\n {2}1: "a",\n {2}2: "b",\n\}\);\n$/,
  );
});

async function haveHeaders(): Promise<boolean> {
  for (const source of Object.values(HEADER_SOURCES)) {
    try {
      await Deno.stat(`${source.includeDir}/${source.header}`);
    } catch {
      return false;
    }
  }
  try {
    return (await new Deno.Command("cpp", { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

const headers = await haveHeaders();
Deno.test({
  name:
    "the committed tables match the kernel headers (regenerate with generate_syscall_tables.ts)",
  // Needs gcc, linux-libc-dev and linux-libc-dev-arm64-cross; the tables themselves are
  // committed. Under CI a missing prerequisite is a failure, not a skip.
  ignore: !headers && Deno.env.get("CI") !== "true",
  fn: async () => {
    assert.ok(headers, "needs cpp, linux-libc-dev and linux-libc-dev-arm64-cross (CI=true)");
    const generated = await generateSyscallTables();
    for (const file of Object.values(GENERATED_FILES)) {
      const committed = await Deno.readTextFile(new URL(file, REPOSITORY_ROOT));
      assert.equal(
        committed,
        generated[file],
        `${file} is out of date: run "deno run -A _tools/generate_syscall_tables.ts"`,
      );
    }
  },
});
