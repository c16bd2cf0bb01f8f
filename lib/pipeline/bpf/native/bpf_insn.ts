/**
 * A tiny eBPF instruction encoder: just the instructions wrapp's own programs use, each
 * as the kernel's 8-byte `struct bpf_insn` (little-endian on x86_64 and aarch64), so a
 * program can be loaded with the `bpf()` syscall and no compiler.
 *
 * Jumps are encoded to labels and resolved by {@linkcode assemble}:
 *
 * ```ts
 * import { assemble, BPF_REG, exit, jmpImm, label, movImm } from "./bpf_insn.ts";
 * const { R0, R1 } = BPF_REG;
 * const bytes = assemble([
 *   jmpImm("jne", R1, 0, "out"),
 *   movImm(R0, 1),
 *   label("out"),
 *   exit(),
 * ]);
 * ```
 *
 * @module
 */

/** The eleven registers: R0 return value, R1–R5 arguments, R6–R9 callee-saved, R10 frame pointer. */
export const BPF_REG = Object.freeze({
  R0: 0,
  R1: 1,
  R2: 2,
  R3: 3,
  R4: 4,
  R5: 5,
  R6: 6,
  R7: 7,
  R8: 8,
  R9: 9,
  R10: 10,
});

/** A register number, 0–10. */
export type Reg = number;

/** Memory access sizes. */
export type Size = "u8" | "u16" | "u32" | "u64";

/** ALU operations (64-bit). */
export type AluOp = "add" | "sub" | "mul" | "or" | "and" | "lsh" | "rsh" | "xor" | "mov" | "arsh";

/** Conditional jumps (64-bit compares). */
export type JmpOp =
  | "jeq"
  | "jne"
  | "jgt"
  | "jge"
  | "jlt"
  | "jle"
  | "jsgt"
  | "jsge"
  | "jslt"
  | "jsle";

/** One instruction, or a jump waiting for its label, or a label. */
export type Insn =
  | {
    kind: "insn";
    code: number;
    dst: Reg;
    src: Reg;
    off: number;
    imm: number;
    /** The upper 32 bits of a 16-byte load (`ld_imm64`); the second half is emitted with it. */
    imm64High?: number;
  }
  | { kind: "jump"; code: number; dst: Reg; src: Reg; imm: number; target: string }
  | { kind: "label"; name: string };

// Instruction classes, sizes, modes and sources (include/uapi/linux/bpf_common.h, bpf.h).
const _LD = 0x00, _LDX = 0x01, _ST = 0x02, _STX = 0x03, _JMP = 0x05, _ALU64 = 0x07;
const _MEM = 0x60, _IMM = 0x00, _K = 0x00, _X = 0x08;
const _SIZES: Record<Size, number> = { u32: 0x00, u16: 0x08, u8: 0x10, u64: 0x18 };
const _ALU: Record<AluOp, number> = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
};
const _JMP_OPS: Record<JmpOp | "ja", number> = {
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
};
const _CALL = 0x80, _EXIT = 0x90;

/** `src_reg` of an `ld_imm64` whose immediate is a map's file descriptor (BPF_PSEUDO_MAP_FD). */
export const BPF_PSEUDO_MAP_FD = 1;

function _reg(r: Reg): Reg {
  if (!Number.isInteger(r) || r < 0 || r > 10) throw new RangeError(`Invalid BPF register ${r}`);
  return r;
}

function _s16(n: number): number {
  if (!Number.isInteger(n) || n < -32768 || n > 32767) {
    throw new RangeError(`BPF offset ${n} does not fit in 16 bits`);
  }
  return n;
}

function _s32(n: number): number {
  if (!Number.isInteger(n) || n < -0x8000_0000 || n > 0xffff_ffff) {
    throw new RangeError(`BPF immediate ${n} does not fit in 32 bits`);
  }
  return n | 0;
}

function _insn(code: number, dst: Reg, src: Reg, off: number, imm: number): Insn {
  return { kind: "insn", code, dst: _reg(dst), src: _reg(src), off: _s16(off), imm: _s32(imm) };
}

/** `dst = imm` (64-bit, the immediate sign-extended). */
export function movImm(dst: Reg, imm: number): Insn {
  return _insn(_ALU64 | _ALU.mov | _K, dst, 0, 0, imm);
}

/** `dst = src` (64-bit). */
export function movReg(dst: Reg, src: Reg): Insn {
  return _insn(_ALU64 | _ALU.mov | _X, dst, src, 0, 0);
}

/** `dst op= imm` (64-bit). */
export function aluImm(op: AluOp, dst: Reg, imm: number): Insn {
  return _insn(_ALU64 | _ALU[op] | _K, dst, 0, 0, imm);
}

/** `dst op= src` (64-bit). */
export function aluReg(op: AluOp, dst: Reg, src: Reg): Insn {
  return _insn(_ALU64 | _ALU[op] | _X, dst, src, 0, 0);
}

/** `dst = *(size *)(src + off)`, zero-extended. */
export function load(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return _insn(_LDX | _MEM | _SIZES[size], dst, src, off, 0);
}

/** `*(size *)(dst + off) = src`. */
export function store(size: Size, dst: Reg, off: number, src: Reg): Insn {
  return _insn(_STX | _MEM | _SIZES[size], dst, src, off, 0);
}

/** `*(size *)(dst + off) = imm`. */
export function storeImm(size: Size, dst: Reg, off: number, imm: number): Insn {
  return _insn(_ST | _MEM | _SIZES[size], dst, 0, off, imm);
}

/** `dst = fd` of a map: a 16-byte `ld_imm64` the kernel turns into the map's address. */
export function loadMapFd(dst: Reg, fd: number): Insn {
  return {
    kind: "insn",
    code: _LD | _IMM | _SIZES.u64,
    dst: _reg(dst),
    src: BPF_PSEUDO_MAP_FD,
    off: 0,
    imm: _s32(fd),
    imm64High: 0,
  };
}

/** `if (dst op imm) goto target`. */
export function jmpImm(op: JmpOp, dst: Reg, imm: number, target: string): Insn {
  return {
    kind: "jump",
    code: _JMP | _JMP_OPS[op] | _K,
    dst: _reg(dst),
    src: 0,
    imm: _s32(imm),
    target,
  };
}

/** `if (dst op src) goto target`. */
export function jmpReg(op: JmpOp, dst: Reg, src: Reg, target: string): Insn {
  return {
    kind: "jump",
    code: _JMP | _JMP_OPS[op] | _X,
    dst: _reg(dst),
    src: _reg(src),
    imm: 0,
    target,
  };
}

/** `goto target`. */
export function ja(target: string): Insn {
  return { kind: "jump", code: _JMP | _JMP_OPS.ja, dst: 0, src: 0, imm: 0, target };
}

/** Call helper number `helper` (arguments in R1–R5, result in R0). */
export function call(helper: number): Insn {
  return _insn(_JMP | _CALL, 0, 0, 0, helper);
}

/** Return R0. */
export function exit(): Insn {
  return _insn(_JMP | _EXIT, 0, 0, 0, 0);
}

/** A jump target: the instruction that follows it. */
export function label(name: string): Insn {
  return { kind: "label", name };
}

/** How many 8-byte slots an instruction takes (labels none, `ld_imm64` two). */
function _slots(insn: Insn): number {
  if (insn.kind === "label") return 0;
  return insn.kind === "insn" && insn.imm64High !== undefined ? 2 : 1;
}

/**
 * Encode `program` into the bytes `BPF_PROG_LOAD` takes, resolving every jump to its
 * label (offsets count 8-byte slots from the next instruction). Throws a `RangeError` for
 * an unknown or duplicate label, or a jump too far for 16 bits.
 */
export function assemble(program: readonly Insn[]): Uint8Array {
  const labels = new Map<string, number>();
  let slot = 0;
  for (const insn of program) {
    if (insn.kind === "label") {
      if (labels.has(insn.name)) throw new RangeError(`Duplicate BPF label "${insn.name}"`);
      labels.set(insn.name, slot);
    }
    slot += _slots(insn);
  }
  const bytes = new Uint8Array(slot * 8);
  const view = new DataView(bytes.buffer);
  const put = (at: number, code: number, dst: Reg, src: Reg, off: number, imm: number) => {
    view.setUint8(at * 8, code);
    view.setUint8(at * 8 + 1, (src << 4) | dst);
    view.setInt16(at * 8 + 2, off, true);
    view.setInt32(at * 8 + 4, imm, true);
  };
  slot = 0;
  for (const insn of program) {
    if (insn.kind === "insn") {
      put(slot, insn.code, insn.dst, insn.src, insn.off, insn.imm);
      if (insn.imm64High !== undefined) put(slot + 1, 0, 0, 0, 0, insn.imm64High);
    } else if (insn.kind === "jump") {
      const target = labels.get(insn.target);
      if (target === undefined) throw new RangeError(`Unknown BPF label "${insn.target}"`);
      put(slot, insn.code, insn.dst, insn.src, _s16(target - slot - 1), insn.imm);
    }
    slot += _slots(insn);
  }
  return bytes;
}
