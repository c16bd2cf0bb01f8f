/**
 * The eBPF programs of the native crash watcher, assembled by hand: the behaviour of
 * `bpf/fatal_signal.bt` without bpftrace. A hash map holds the watched processes; four
 * raw tracepoint programs follow children and threads, stop a watched process at its
 * exec, forget it at its exit, and record the user stack of a thread a fatal signal is
 * generated for. A fifth, for a uprobe on the dynamic loader's `_dl_debug_state` (see
 * {@linkcode loaderHookProgram}), says when a watched process mapped or unmapped
 * libraries. Records go to a ring buffer:
 *
 * ```text
 * offset 0  u32 kind       1 exec (the process is stopped: read its maps, then SIGCONT it)
 *                          2 exit (its last thread), 3 fatal signal, 4 maps changed
 *        4  u32 pid        the process (thread group)
 *  signal records only:
 *        8  u32 tid        the thread the signal was generated for
 *       12  u32 signal
 *       16  i32 result     the kernel's TRACE_SIGNAL_* (0 delivered, 1 ignored…)
 *       20  i32 stack      bytes of user stack written (negative: bpf_get_stack's error)
 *       24  u64[64]        the user stack, innermost frame first (frame pointers)
 * ```
 *
 * The map's keys are u64: a pid wrapp inserts itself (a service start), or the address
 * of the `task_struct` of a thread or process the fork program saw a watched one create.
 * A raw tracepoint gets the tracepoint's arguments, not its tracefs record: the child of
 * `sched_process_fork` is a `task_struct *`, whose pid is at an offset only BTF knows,
 * which L4T kernels may lack. The address needs no offset, and the other programs compare
 * it with `bpf_get_current_task()`. Kernel addresses are far above any pid, so the two
 * kinds of key never meet.
 *
 * Arguments read (`TP_PROTO`, the same from 5.10 to 6.18): `sched_process_fork(parent,
 * child)`, `signal_generate(sig, info, task, group, result)`.
 *
 * @module
 */

import {
  aluImm,
  assemble,
  BPF_REG,
  call,
  exit,
  type Insn,
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
} from "../../../pipeline/bpf/native/bpf_insn.ts";
import type { FatalSignalLine } from "./fatal_signal_line.ts";
import { FATAL_SIGNAL_NUMBERS } from "./fatal_signal_program.ts";

const { R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } = BPF_REG;

// Helpers (include/uapi/linux/bpf.h, enum bpf_func_id).
const _MAP_LOOKUP = 1, _MAP_UPDATE = 2, _MAP_DELETE = 3, _PID_TGID = 14, _CURRENT_TASK = 35;
const _GET_STACK = 67, _SEND_SIGNAL = 109;
const _RINGBUF_OUTPUT = 130, _RINGBUF_RESERVE = 131, _RINGBUF_SUBMIT = 132;
const _BPF_F_USER_STACK = 256;
/** Wake the reader at every record: few records, and each one matters at once. */
const _BPF_RB_FORCE_WAKEUP = 2;
const _SIGSTOP = 19; // the same on x86_64 and aarch64

/** Record kinds. */
export const FATAL_SIGNAL_RECORD = Object.freeze({ EXEC: 1, EXIT: 2, SIGNAL: 3, MAPS: 4 });

/** Frames of user stack recorded (as `ustack(perf, 64)`). */
export const STACK_FRAMES = 64;

/** Bytes of a signal record: the header and the stack. */
export const SIGNAL_RECORD_SIZE = 24 + 8 * STACK_FRAMES;

/**
 * The raw tracepoints the programs attach to, in the order of
 * {@linkcode fatalSignalPrograms}. All four are needed: fork follows what a service
 * starts, exec stops it before its first instruction, exit removes its keys (a pid is
 * reused), and the signal is the crash.
 */
export const FATAL_SIGNAL_TRACEPOINTS = Object.freeze(
  ["sched_process_fork", "sched_process_exec", "sched_process_exit", "signal_generate"] as const,
);

/** Byte offsets of the raw tracepoint arguments read (each argument is a u64). */
const _FORK_CHILD = 8, _SIGNAL_SIG = 0, _SIGNAL_TASK = 16, _SIGNAL_RESULT = 32;

// Stack slots: fp-8 the pid key, fp-16 the task key, fp-24 a small record or a key,
// fp-32 a value.
const _PID_KEY = -8, _TASK_KEY = -16;

/**
 * R7 = tgid (pid), R8 = tid; the pid key at fp-8 and the current task's address at
 * fp-16; then `if (!map[pid] && !map[task]) goto out`.
 */
function _watched(pids: number): Insn[] {
  return [
    call(_PID_TGID),
    movReg(R8, R0),
    aluImm("lsh", R8, 32),
    aluImm("rsh", R8, 32),
    movReg(R7, R0),
    aluImm("rsh", R7, 32),
    store("u64", R10, _PID_KEY, R7),
    call(_CURRENT_TASK),
    store("u64", R10, _TASK_KEY, R0),
    loadMapFd(R1, pids),
    movReg(R2, R10),
    aluImm("add", R2, _PID_KEY),
    call(_MAP_LOOKUP),
    jmpImm("jne", R0, 0, "watched"),
    loadMapFd(R1, pids),
    movReg(R2, R10),
    aluImm("add", R2, _TASK_KEY),
    call(_MAP_LOOKUP),
    jmpImm("jeq", R0, 0, "out"),
    label("watched"),
  ];
}

/**
 * Send `{kind, pid (R7)}` to the ring buffer from the stack (fp-24). `flags` 0 wakes the
 * reader only when it has read everything before (a burst wakes it once).
 */
function _emit(events: number, kind: number, flags = _BPF_RB_FORCE_WAKEUP): Insn[] {
  return [
    storeImm("u32", R10, -24, kind),
    store("u32", R10, -20, R7),
    loadMapFd(R1, events),
    movReg(R2, R10),
    aluImm("add", R2, -24),
    movImm(R3, 8),
    movImm(R4, flags),
    call(_RINGBUF_OUTPUT),
  ];
}

/** `map.delete(key at fp+offset)`. */
function _delete(pids: number, offset: number): Insn[] {
  return [
    loadMapFd(R1, pids),
    movReg(R2, R10),
    aluImm("add", R2, offset),
    call(_MAP_DELETE),
  ];
}

const _OUT = [label("out"), movImm(R0, 0), exit()];

/** Map fds the programs use. */
export interface FatalSignalMaps {
  /** Hash u64 → u32: the watched pids and tasks (see the module documentation). */
  pids: number;
  /** The ring buffer. */
  events: number;
}

/**
 * The four raw tracepoint programs, assembled, in the order of
 * {@linkcode FATAL_SIGNAL_TRACEPOINTS}.
 */
export function fatalSignalPrograms(maps: FatalSignalMaps): Uint8Array[] {
  const fork: Insn[] = [
    // Children and threads of a watched process are watched (a thread lands here too),
    // before the child first runs: the tracepoint comes before wake_up_new_task().
    movReg(R6, R1),
    ..._watched(maps.pids),
    load("u64", R1, R6, _FORK_CHILD),
    store("u64", R10, -24, R1),
    storeImm("u32", R10, -32, 1),
    loadMapFd(R1, maps.pids),
    movReg(R2, R10),
    aluImm("add", R2, -24),
    movReg(R3, R10),
    aluImm("add", R3, -32),
    movImm(R4, 0), // BPF_ANY
    call(_MAP_UPDATE),
    ..._OUT,
  ];
  const exec: Insn[] = [
    ..._watched(maps.pids),
    // Taken on the way back to user space: no instruction of the new program runs before
    // wrapp has read its maps and resumed it.
    movImm(R1, _SIGSTOP),
    call(_SEND_SIGNAL),
    ..._emit(maps.events, FATAL_SIGNAL_RECORD.EXEC),
    ..._OUT,
  ];
  const exitProgram: Insn[] = [
    ..._watched(maps.pids),
    jmpReg("jne", R7, R8, "forget"),
    // The leader: the process is gone (its pid may be reused).
    ..._emit(maps.events, FATAL_SIGNAL_RECORD.EXIT),
    ..._delete(maps.pids, _PID_KEY),
    label("forget"),
    ..._delete(maps.pids, _TASK_KEY), // its address may be reused
    ..._OUT,
  ];
  const fatal = [...FATAL_SIGNAL_NUMBERS].sort((a, b) => a - b);
  const signal: Insn[] = [
    movReg(R6, R1),
    ..._watched(maps.pids),
    // Generated for the current thread itself: a fault or abort(), not another
    // process's kill, whose stack would be the sender's.
    load("u64", R1, R6, _SIGNAL_TASK),
    load("u64", R2, R10, _TASK_KEY),
    jmpReg("jne", R1, R2, "out"),
    load("u32", R9, R6, _SIGNAL_SIG),
    ...fatal.map((number) => jmpImm("jeq", R9, number, "fatal")),
    ja("out"),
    label("fatal"),
    loadMapFd(R1, maps.events),
    movImm(R2, SIGNAL_RECORD_SIZE),
    movImm(R3, 0),
    call(_RINGBUF_RESERVE),
    jmpImm("jeq", R0, 0, "out"),
    storeImm("u32", R0, 0, FATAL_SIGNAL_RECORD.SIGNAL),
    store("u32", R0, 4, R7),
    store("u32", R0, 8, R8),
    store("u32", R0, 12, R9),
    load("u32", R1, R6, _SIGNAL_RESULT),
    store("u32", R0, 16, R1),
    movReg(R7, R0), // the record, kept across the call
    movReg(R1, R6),
    movReg(R2, R7),
    aluImm("add", R2, 24),
    movImm(R3, 8 * STACK_FRAMES),
    movImm(R4, _BPF_F_USER_STACK),
    call(_GET_STACK),
    store("u32", R7, 20, R0),
    movReg(R1, R7),
    movImm(R2, _BPF_RB_FORCE_WAKEUP),
    call(_RINGBUF_SUBMIT),
    ..._OUT,
  ];
  return [fork, exec, exitProgram, signal].map((program) => assemble(program));
}

/**
 * The program run at each call of the dynamic loader's `_dl_debug_state()`, which glibc's
 * and musl's loaders call (for debuggers) before and after they map or unmap libraries:
 * at start-up and at every `dlopen`/`dlclose` that changes something. For a watched
 * process it sends a "maps changed" record, without forcing a wake-up: the two calls of a
 * `dlopen`, or a burst of them, wake wrapp once. A `BPF_PROG_TYPE_KPROBE` program (a
 * uprobe's); it reads nothing of its context, so no register layout matters.
 */
export function loaderHookProgram(maps: FatalSignalMaps): Uint8Array {
  return assemble([
    ..._watched(maps.pids),
    ..._emit(maps.events, FATAL_SIGNAL_RECORD.MAPS, 0),
    ..._OUT,
  ]);
}

/** The function of the dynamic loader {@linkcode loaderHookProgram} is attached to. */
export const LOADER_HOOK_FUNCTION = "_dl_debug_state";

/** A decoded ring buffer record: a {@linkcode FatalSignalLine} and, for a signal, its stack. */
export interface FatalSignalEvent {
  /** What happened. */
  line: FatalSignalLine;
  /** The user stack of a signal record, innermost first. */
  addresses?: number[];
  /** bpf_get_stack's error, when it failed (`-14`). */
  stackError?: number;
}

/** Decode one record of the programs; `undefined` for one too short or of an unknown kind. */
export function parseFatalSignalRecord(bytes: Uint8Array): FatalSignalEvent | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = view.getUint32(0, true);
  const pid = view.getUint32(4, true);
  if (kind === FATAL_SIGNAL_RECORD.EXEC) return { line: { kind: "exec", pid } };
  if (kind === FATAL_SIGNAL_RECORD.EXIT) return { line: { kind: "exit", pid } };
  if (kind === FATAL_SIGNAL_RECORD.MAPS) return { line: { kind: "maps", pid } };
  if (kind !== FATAL_SIGNAL_RECORD.SIGNAL || bytes.byteLength < 24) return undefined;
  const line: FatalSignalLine = {
    kind: "signal",
    pid,
    tid: view.getUint32(8, true),
    signal: view.getUint32(12, true),
    result: view.getInt32(16, true),
  };
  const stackBytes = view.getInt32(20, true);
  if (stackBytes < 0) return { line, addresses: [], stackError: stackBytes };
  const addresses: number[] = [];
  const frames = Math.min(stackBytes, bytes.byteLength - 24, 8 * STACK_FRAMES) / 8;
  for (let i = 0; i < frames; i++) {
    const address = view.getBigUint64(24 + 8 * i, true);
    if (address === 0n) break;
    addresses.push(Number(address));
  }
  return { line, addresses };
}
