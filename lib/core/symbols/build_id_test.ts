import assert from "node:assert/strict";
import { WrappError } from "../errors.ts";
import { bytesSource, elfInfo, findNote, readBuildId, readElfInfo } from "./build_id.ts";

const CI = Deno.env.get("CI") === "true";

async function run(program: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

/** The build-id `readelf -n` prints for `path`. */
async function readelfBuildId(path: string): Promise<string | undefined> {
  const { stdout } = await run("readelf", ["-n", path]);
  return /Build ID: ([0-9a-f]+)/.exec(stdout)?.[1];
}

async function available(program: string): Promise<boolean> {
  try {
    return (await run(program, ["--version"])).code === 0;
  } catch {
    return false;
  }
}

Deno.test("readElfInfo() reads the build-id of a gcc-built binary like readelf -n", async () => {
  if (!(await available("gcc")) || !(await available("readelf"))) {
    if (CI) throw new Error("gcc and readelf are needed for this test (apt-get install gcc)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "wrapp-build-id-" });
  try {
    await Deno.writeTextFile(`${dir}/a.c`, "int main(void) { return 0; }\n");
    const compiled = await run("gcc", ["-Wl,--build-id=sha1", "-o", `${dir}/a`, `${dir}/a.c`]);
    assert.equal(compiled.code, 0);
    const info = await readElfInfo(`${dir}/a`);
    assert.equal(info.bits, 64);
    assert.equal(info.littleEndian, true);
    // gcc is the host's compiler, also when these tests run on aarch64 Deno under qemu.
    const machine = /Machine:\s+(.*)/.exec((await run("readelf", ["-h", `${dir}/a`])).stdout)?.[1];
    assert.equal(info.machineName, machine?.includes("AArch64") ? "aarch64" : "x86_64", machine);
    assert.equal(info.buildId?.length, 40);
    assert.equal(info.buildId, await readelfBuildId(`${dir}/a`));

    const none = await run("gcc", ["-Wl,--build-id=none", "-o", `${dir}/b`, `${dir}/a.c`]);
    assert.equal(none.code, 0);
    assert.equal(await readBuildId(`${dir}/b`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readElfInfo() reads an aarch64 shared library (Debian's arm64 cross libc)", async () => {
  const libc = "/usr/aarch64-linux-gnu/lib/libc.so.6";
  const exists = await Deno.stat(libc).then(() => true, () => false);
  if (!exists || !(await available("readelf"))) {
    if (CI) throw new Error(`${libc} and readelf are needed (apt-get install libc6-arm64-cross)`);
    return;
  }
  const info = await readElfInfo(libc);
  assert.equal(info.machineName, "aarch64");
  assert.equal(info.bits, 64);
  assert.equal(info.buildId, await readelfBuildId(libc));
});

Deno.test("readElfInfo() rejects a file that is not ELF with a SyntaxError", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "#!/bin/sh\necho hi\n");
    await assert.rejects(() => readElfInfo(path), (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.equal(error.message, `Not an ELF file "${path}": no ELF magic number`);
      return true;
    });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readElfInfo() reports a missing file as a WrappError", async () => {
  await assert.rejects(() => readElfInfo("/nonexistent/wrapp-elf"), (error: Error) => {
    assert.ok(error instanceof WrappError);
    assert.equal(error.message, 'Cannot read "/nonexistent/wrapp-elf": no such file or directory');
    return true;
  });
});

/** A minimal ELF with one GNU build-id note, in a PT_NOTE segment or a SHT_NOTE section. */
function syntheticElf(
  options: { bits: 32 | 64; littleEndian: boolean; where: "segment" | "section"; machine: number },
  buildId: number[],
): Uint8Array {
  const { bits, littleEndian: le } = options;
  const ehsize = bits === 64 ? 64 : 52;
  const entsize = options.where === "segment" ? (bits === 64 ? 56 : 32) : (bits === 64 ? 64 : 40);
  // Two notes: an unrelated one first, to check the walk.
  const note = (type: number, name: string, desc: number[]) => {
    const nameBytes = [...new TextEncoder().encode(name), 0];
    const pad = (a: number[]) => [...a, ...new Array((4 - a.length % 4) % 4).fill(0)];
    const head = new Uint8Array(12);
    const v = new DataView(head.buffer);
    v.setUint32(0, nameBytes.length, le);
    v.setUint32(4, desc.length, le);
    v.setUint32(8, type, le);
    return [...head, ...pad(nameBytes), ...pad(desc)];
  };
  const notes = [...note(1, "GNU", [0, 0, 0, 0, 3, 0, 0, 0]), ...note(3, "GNU", buildId)];
  const tableAt = ehsize;
  const notesAt = tableAt + entsize;
  const bytes = new Uint8Array(notesAt + notes.length);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, le ? 1 : 2, 1]);
  const v = new DataView(bytes.buffer);
  v.setUint16(16, 2, le);
  v.setUint16(18, options.machine, le);
  const set = (at: number, value: number, wide: boolean) =>
    wide ? v.setBigUint64(at, BigInt(value), le) : v.setUint32(at, value, le);
  const w = bits === 64;
  if (options.where === "segment") {
    set(w ? 32 : 28, tableAt, w); // e_phoff
    v.setUint16(w ? 54 : 42, entsize, le);
    v.setUint16(w ? 56 : 44, 1, le);
    v.setUint32(tableAt, 4, le); // PT_NOTE
    if (w) {
      set(tableAt + 8, notesAt, true);
      set(tableAt + 32, notes.length, true);
      set(tableAt + 48, 4, true);
    } else {
      set(tableAt + 4, notesAt, false);
      set(tableAt + 16, notes.length, false);
      set(tableAt + 28, 4, false);
    }
  } else {
    set(w ? 40 : 32, tableAt, w); // e_shoff
    v.setUint16(w ? 58 : 46, entsize, le);
    v.setUint16(w ? 60 : 48, 1, le);
    v.setUint32(tableAt + 4, 7, le); // SHT_NOTE
    if (w) {
      set(tableAt + 24, notesAt, true);
      set(tableAt + 32, notes.length, true);
      set(tableAt + 48, 4, true);
    } else {
      set(tableAt + 16, notesAt, false);
      set(tableAt + 20, notes.length, false);
      set(tableAt + 32, 4, false);
    }
  }
  bytes.set(notes, notesAt);
  return bytes;
}

Deno.test("elfInfo() reads build-ids in every class, byte order and place", async () => {
  const id = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03];
  for (const bits of [32, 64] as const) {
    for (const littleEndian of [true, false]) {
      for (const where of ["segment", "section"] as const) {
        const what = `${bits}-bit ${littleEndian ? "LE" : "BE"} ${where}`;
        const info = await elfInfo(
          bytesSource(syntheticElf({ bits, littleEndian, where, machine: 183 }, id)),
        );
        assert.equal(info.buildId, "deadbeef010203", what);
        assert.equal(info.bits, bits, what);
        assert.equal(info.machineName, "aarch64", what);
      }
    }
  }
});

Deno.test("elfInfo() rejects a truncated header and unknown classes", async () => {
  await assert.rejects(
    () => elfInfo(bytesSource(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]))),
    SyntaxError,
  );
  const bad = syntheticElf({ bits: 64, littleEndian: true, where: "segment", machine: 62 }, [1]);
  bad[4] = 9;
  await assert.rejects(() => elfInfo(bytesSource(bad), "x"), /unknown class 9/);
});

Deno.test("findNote() stops at a note whose sizes run past the data", () => {
  const data = new Uint8Array(16);
  new DataView(data.buffer).setUint32(0, 1000, true);
  assert.equal(findNote(data, 3, { littleEndian: true }), undefined);
});
