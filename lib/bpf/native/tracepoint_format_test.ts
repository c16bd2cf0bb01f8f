import assert from "node:assert/strict";
import { fieldOffset, parseTracepointFields, readTracepointFormat } from "./tracepoint_format.ts";

/** sched_process_fork as Linux 5.15 (the Jetson's) prints it. */
const FORK_5_15 = `name: sched_process_fork
ID: 311
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:1;
\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:char child_comm[16];\toffset:28;\tsize:16;\tsigned:1;
\tfield:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;

print fmt: "comm=%s pid=%d child_comm=%s child_pid=%d", REC->parent_comm, REC->parent_pid, REC->child_comm, REC->child_pid
`;

/** The same tracepoint on Linux 6.18: the names became __data_loc strings. */
const FORK_6_18 = `name: sched_process_fork
ID: 366
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;
\tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;

print fmt: "comm=%s pid=%d child_comm=%s child_pid=%d", __get_str(parent_comm), REC->parent_pid, __get_str(child_comm), REC->child_pid
`;

Deno.test("parseTracepointFields() reads the 5.15 layout, arrays included", () => {
  const fields = parseTracepointFields(FORK_5_15);
  assert.deepEqual(fields.get("child_pid"), { type: "pid_t", offset: 44, size: 4, signed: true });
  assert.deepEqual(fields.get("parent_comm"), {
    type: "char[16]",
    offset: 8,
    size: 16,
    signed: true,
  });
  assert.deepEqual(fields.get("common_type"), {
    type: "unsigned short",
    offset: 0,
    size: 2,
    signed: false,
  });
  assert.equal(fields.size, 8);
});

Deno.test("parseTracepointFields() reads the 6.18 layout with __data_loc strings", () => {
  const fields = parseTracepointFields(FORK_6_18);
  assert.deepEqual(fields.get("child_pid"), { type: "pid_t", offset: 20, size: 4, signed: true });
  assert.deepEqual(fields.get("child_comm"), {
    type: "__data_loc char[]",
    offset: 16,
    size: 4,
    signed: false,
  });
});

Deno.test("parseTracepointFields() refuses a text with no field", () => {
  assert.throws(() => parseTracepointFields("name: x\nID: 3\n"), SyntaxError);
});

Deno.test("readTracepointFormat() falls back to the next tracefs and reads id and fields", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const events = `${dir}/debug/events/sched/sched_process_fork`;
    await Deno.mkdir(events, { recursive: true });
    await Deno.writeTextFile(`${events}/id`, "311\n");
    await Deno.writeTextFile(`${events}/format`, FORK_5_15);
    const format = readTracepointFormat("sched:sched_process_fork", {
      tracefs: [`${dir}/tracing`, `${dir}/debug`],
    });
    assert.equal(format.id, 311);
    assert.equal(format.name, "sched:sched_process_fork");
    assert.equal(fieldOffset(format, "child_pid", 4), 44);
    assert.throws(() => fieldOffset(format, "child_comm", 4), /is 16 bytes, not 4/);
    assert.throws(() => fieldOffset(format, "nope", 4), /has no field "nope"/);
    assert.throws(
      () => readTracepointFormat("sched:nothing", { tracefs: [`${dir}/tracing`] }),
      /Cannot read the tracepoint sched:nothing: none of .*tracing\/events\/sched\/nothing/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
