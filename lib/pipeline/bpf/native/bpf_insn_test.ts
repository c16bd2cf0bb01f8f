import assert from "node:assert/strict";
import {
  aluImm,
  aluReg,
  assemble,
  BPF_REG,
  call,
  exit,
  ja,
  jmpImm,
  jmpReg,
  label,
  load,
  loadMapFd,
  movImm,
  movReg,
  store,
  storeImm,
} from "./bpf_insn.ts";

const { R0, R1, R2, R6, R10 } = BPF_REG;

/** The bytes as `llvm-objdump -d` prints them, one instruction per string. */
function hex(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push([...bytes.slice(i, i + 8)].map((b) => b.toString(16).padStart(2, "0")).join(" "));
  }
  return out;
}

Deno.test("assemble() encodes ALU, loads, stores, calls and exit as clang does", () => {
  assert.deepEqual(
    hex(assemble([
      movImm(R0, 0),
      movReg(R1, R6),
      aluImm("add", R2, -4),
      aluImm("rsh", R0, 32),
      aluReg("and", R1, R2),
      store("u32", R10, -4, R0),
      storeImm("u32", R10, -12, 1),
      load("u32", R1, R6, 20),
      load("u64", R2, R1, 8),
      call(14),
      exit(),
    ])),
    [
      "b7 00 00 00 00 00 00 00", // r0 = 0
      "bf 61 00 00 00 00 00 00", // r1 = r6
      "07 02 00 00 fc ff ff ff", // r2 += -4
      "77 00 00 00 20 00 00 00", // r0 >>= 32
      "5f 21 00 00 00 00 00 00", // r1 &= r2
      "63 0a fc ff 00 00 00 00", // *(u32 *)(r10 - 4) = r0
      "62 0a f4 ff 01 00 00 00", // *(u32 *)(r10 - 12) = 1
      "61 61 14 00 00 00 00 00", // r1 = *(u32 *)(r6 + 20)
      "79 12 08 00 00 00 00 00", // r2 = *(u64 *)(r1 + 8)
      "85 00 00 00 0e 00 00 00", // call 14
      "95 00 00 00 00 00 00 00", // exit
    ],
  );
});

Deno.test("assemble() gives a map fd load two slots, with the pseudo map fd source", () => {
  assert.deepEqual(hex(assemble([loadMapFd(R1, 7), exit()])), [
    "18 11 00 00 07 00 00 00",
    "00 00 00 00 00 00 00 00",
    "95 00 00 00 00 00 00 00",
  ]);
});

Deno.test("assemble() resolves jumps to labels forwards and backwards, counting ld_imm64 as two", () => {
  assert.deepEqual(
    hex(assemble([
      label("top"),
      jmpImm("jeq", R0, 0, "out"), // +3: the map load takes two slots
      loadMapFd(R1, 3),
      jmpReg("jne", R1, R2, "top"), // -4
      label("out"),
      ja("top"), // -5
      exit(),
    ])),
    [
      "15 00 03 00 00 00 00 00",
      "18 11 00 00 03 00 00 00",
      "00 00 00 00 00 00 00 00",
      "5d 21 fc ff 00 00 00 00",
      "05 00 fb ff 00 00 00 00",
      "95 00 00 00 00 00 00 00",
    ],
  );
});

Deno.test("assemble() encodes unsigned 32-bit immediates as their two's complement", () => {
  assert.deepEqual(hex(assemble([aluImm("and", R0, 0xffff_ffff)])), ["57 00 00 00 ff ff ff ff"]);
});

Deno.test("assemble() refuses unknown and duplicate labels", () => {
  assert.throws(() => assemble([ja("nowhere")]), /Unknown BPF label "nowhere"/);
  assert.throws(() => assemble([label("a"), label("a")]), /Duplicate BPF label "a"/);
});

Deno.test("instructions refuse registers, offsets and immediates out of range", () => {
  assert.throws(() => movImm(11, 0), /Invalid BPF register 11/);
  assert.throws(() => load("u32", R0, R1, 40000), /offset 40000 does not fit in 16 bits/);
  assert.throws(() => movImm(R0, 2 ** 33), /immediate 8589934592 does not fit in 32 bits/);
});
