import assert from "node:assert/strict";
import { parseTracepointFields, type TracepointFormat } from "../bpf/native/tracepoint_format.ts";
import {
  FATAL_SIGNAL_RECORD,
  FATAL_SIGNAL_TRACEPOINTS,
  fatalSignalLayout,
  fatalSignalPrograms,
  parseFatalSignalRecord,
  SIGNAL_RECORD_SIZE,
} from "./fatal_signal_bpf.ts";

function format(name: string, fields: string): TracepointFormat {
  return { name, id: 1, fields: parseTracepointFields(fields) };
}

const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;

/** signal_generate, the same on 5.15 and 6.18. */
const SIGNAL = format(
  "signal:signal_generate",
  `${COMMON}\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;
\tfield:char comm[16];\toffset:20;\tsize:16;\tsigned:0;
\tfield:pid_t pid;\toffset:36;\tsize:4;\tsigned:1;
\tfield:int result;\toffset:44;\tsize:4;\tsigned:1;
`,
);

function formats(childPidOffset: number): Map<string, TracepointFormat> {
  return new Map([
    [
      "sched:sched_process_fork",
      format(
        "sched:sched_process_fork",
        `${COMMON}\tfield:pid_t child_pid;\toffset:${childPidOffset};\tsize:4;\tsigned:1;\n`,
      ),
    ],
    ["signal:signal_generate", SIGNAL],
  ]);
}

/** The instructions that load a 32-bit field of the tracepoint record (R6 = ctx) at `offset`. */
function ctxLoads(program: Uint8Array): number[] {
  const offsets: number[] = [];
  const view = new DataView(program.buffer);
  for (let i = 0; i < program.length; i += 8) {
    // ldxw dst, [r6 + off]: opcode 0x61, src register 6.
    if (program[i] === 0x61 && program[i + 1] >> 4 === 6) offsets.push(view.getInt16(i + 2, true));
  }
  return offsets;
}

Deno.test("fatalSignalLayout() takes the field offsets of the running kernel's formats", () => {
  assert.deepEqual(fatalSignalLayout(formats(44)), {
    forkChildPid: 44,
    signalSig: 8,
    signalPid: 36,
    signalResult: 44,
  });
  assert.throws(
    () => fatalSignalLayout(new Map([["signal:signal_generate", SIGNAL]])),
    /No format for the tracepoint sched:sched_process_fork/,
  );
});

Deno.test("fatalSignalPrograms() reads child_pid where 5.15 and 6.18 put it", () => {
  for (const offset of [44, 20]) {
    const programs = fatalSignalPrograms(fatalSignalLayout(formats(offset)), {
      pids: 3,
      events: 4,
    });
    assert.equal(programs.length, FATAL_SIGNAL_TRACEPOINTS.length);
    assert.deepEqual(ctxLoads(programs[0]), [offset]);
    assert.deepEqual(ctxLoads(programs[3]), [36, 8, 44]); // pid, sig, result
    for (const program of programs) {
      assert.equal(program.length % 8, 0);
      assert.equal(program[program.length - 8], 0x95, "every program ends with exit");
    }
  }
});

Deno.test("fatalSignalPrograms() compares the signal with each fatal signal number", () => {
  const [, , , signal] = fatalSignalPrograms(fatalSignalLayout(formats(20)), {
    pids: 3,
    events: 4,
  });
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
