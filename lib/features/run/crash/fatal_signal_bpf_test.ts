import assert from "node:assert/strict";
import {
  FATAL_SIGNAL_RECORD,
  FATAL_SIGNAL_TRACEPOINTS,
  fatalSignalPrograms,
  loaderHookProgram,
  parseFatalSignalRecord,
  SIGNAL_RECORD_SIZE,
} from "./fatal_signal_bpf.ts";

/** `[size, offset]` of every load from the tracepoint's arguments (R6 = ctx). */
function ctxLoads(program: Uint8Array): Array<[string, number]> {
  const loads: Array<[string, number]> = [];
  const view = new DataView(program.buffer);
  const sizes: Record<number, string> = { 0x61: "u32", 0x79: "u64" };
  for (let i = 0; i < program.length; i += 8) {
    // ldx dst, [r6 + off]: src register 6.
    if (sizes[program[i]] && program[i + 1] >> 4 === 6) {
      loads.push([sizes[program[i]], view.getInt16(i + 2, true)]);
    }
  }
  return loads;
}

/** The helpers each program calls, in order. */
function helpers(program: Uint8Array): number[] {
  const called: number[] = [];
  const view = new DataView(program.buffer);
  for (let i = 0; i < program.length; i += 8) {
    if (program[i] === 0x85) called.push(view.getInt32(i + 4, true));
  }
  return called;
}

Deno.test("fatalSignalPrograms() reads the raw tracepoints' arguments, never a task_struct field", () => {
  const programs = fatalSignalPrograms({ pids: 3, events: 4 });
  assert.equal(programs.length, FATAL_SIGNAL_TRACEPOINTS.length);
  assert.deepEqual(FATAL_SIGNAL_TRACEPOINTS, [
    "sched_process_fork",
    "sched_process_exec",
    "sched_process_exit",
    "signal_generate",
  ]);
  // fork(parent, child): the child's address. signal_generate(sig, info, task, group,
  // result): the task, then sig and result.
  assert.deepEqual(ctxLoads(programs[0]), [["u64", 8]]);
  assert.deepEqual(ctxLoads(programs[1]), []);
  assert.deepEqual(ctxLoads(programs[2]), []);
  assert.deepEqual(ctxLoads(programs[3]), [["u64", 16], ["u32", 0], ["u32", 32]]);
  for (const program of programs) {
    assert.equal(program.length % 8, 0);
    assert.equal(program[program.length - 8], 0x95, "every program ends with exit");
    // No bpf_probe_read*: nothing depends on the kernel's struct layouts.
    assert.ok(!helpers(program).some((h) => [4, 112, 113].includes(h)), `${helpers(program)}`);
  }
});

Deno.test("fatalSignalPrograms() looks a process up by its pid, then by its task", () => {
  const [fork, exec, exitProgram, signal] = fatalSignalPrograms({ pids: 3, events: 4 });
  // pid_tgid, current_task, lookup, lookup; then each program's own work.
  const watched = [14, 35, 1, 1];
  assert.deepEqual(helpers(fork), [...watched, 2]); // update: the child
  assert.deepEqual(helpers(exec), [...watched, 109, 130]); // SIGSTOP, record
  assert.deepEqual(helpers(exitProgram), [...watched, 130, 3, 3]); // record, 2 deletes
  assert.deepEqual(helpers(signal), [...watched, 131, 67, 132]); // reserve, stack, submit
});

Deno.test("fatalSignalPrograms() compares the signal with each fatal signal number", () => {
  const [, , , signal] = fatalSignalPrograms({ pids: 3, events: 4 });
  const compared: number[] = [];
  const view = new DataView(signal.buffer);
  for (let i = 0; i < signal.length; i += 8) {
    // jeq r9, imm
    if (signal[i] === 0x15 && (signal[i + 1] & 0xf) === 9) {
      compared.push(view.getInt32(i + 4, true));
    }
  }
  assert.deepEqual(compared, [4, 5, 6, 7, 8, 11, 31]);
});

function record(kind: number, pid: number, rest: (view: DataView) => void = () => {}, size = 8) {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, kind, true);
  view.setUint32(4, pid, true);
  rest(view);
  return bytes;
}

Deno.test("parseFatalSignalRecord() decodes exec, exit and signal records with their stack", () => {
  assert.deepEqual(parseFatalSignalRecord(record(FATAL_SIGNAL_RECORD.EXEC, 12)), {
    line: { kind: "exec", pid: 12 },
  });
  assert.deepEqual(parseFatalSignalRecord(record(FATAL_SIGNAL_RECORD.EXIT, 12)), {
    line: { kind: "exit", pid: 12 },
  });
  const signal = record(FATAL_SIGNAL_RECORD.SIGNAL, 12, (view) => {
    view.setUint32(8, 13, true);
    view.setUint32(12, 11, true);
    view.setInt32(16, 2, true);
    view.setInt32(20, 24, true); // three frames
    view.setBigUint64(24, 0x5555_0000_1149n, true);
    view.setBigUint64(32, 0x5555_0000_1170n, true);
    view.setBigUint64(40, 0x7f00_0002_9d90n, true);
    view.setBigUint64(48, 0xdeadn, true); // beyond the bytes written
  }, SIGNAL_RECORD_SIZE);
  assert.deepEqual(parseFatalSignalRecord(signal), {
    line: { kind: "signal", pid: 12, tid: 13, signal: 11, result: 2 },
    addresses: [0x5555_0000_1149, 0x5555_0000_1170, 0x7f00_0002_9d90],
  });
});

Deno.test("parseFatalSignalRecord() keeps bpf_get_stack's error and refuses unknown records", () => {
  const failed = record(FATAL_SIGNAL_RECORD.SIGNAL, 5, (view) => {
    view.setUint32(8, 5, true);
    view.setUint32(12, 6, true);
    view.setInt32(20, -14, true);
  }, SIGNAL_RECORD_SIZE);
  assert.deepEqual(parseFatalSignalRecord(failed), {
    line: { kind: "signal", pid: 5, tid: 5, signal: 6, result: 0 },
    addresses: [],
    stackError: -14,
  });
  assert.equal(parseFatalSignalRecord(record(9, 1)), undefined);
  assert.equal(parseFatalSignalRecord(new Uint8Array(4)), undefined);
  assert.equal(parseFatalSignalRecord(record(FATAL_SIGNAL_RECORD.SIGNAL, 1)), undefined);
});

Deno.test("loaderHookProgram() sends a maps record for a watched process, reading nothing of its context", () => {
  const program = loaderHookProgram({ pids: 3, events: 4 });
  // pid_tgid, current_task, lookup, lookup, then ringbuf_output.
  assert.deepEqual(helpers(program), [14, 35, 1, 1, 130]);
  assert.deepEqual(ctxLoads(program), []);
  assert.equal(program[program.length - 8], 0x95, "it ends with exit");
  // The record: kind MAPS stored at fp-24; flags 0 (mov r4, 0): no forced wake-up.
  const view = new DataView(program.buffer);
  const stores: number[] = [];
  let flags: number | undefined;
  for (let i = 0; i < program.length; i += 8) {
    if (program[i] === 0x62 && view.getInt16(i + 2, true) === -24) {
      stores.push(view.getInt32(i + 4, true));
    }
    if (program[i] === 0xb7 && (program[i + 1] & 0xf) === 4) flags = view.getInt32(i + 4, true);
  }
  assert.deepEqual(stores, [FATAL_SIGNAL_RECORD.MAPS]);
  assert.equal(flags, 0);
});

Deno.test("parseFatalSignalRecord() decodes a maps record", () => {
  assert.deepEqual(parseFatalSignalRecord(record(FATAL_SIGNAL_RECORD.MAPS, 77)), {
    line: { kind: "maps", pid: 77 },
  });
});
