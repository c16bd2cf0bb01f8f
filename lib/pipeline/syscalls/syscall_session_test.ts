import assert from "node:assert/strict";
import { SidecarError } from "../../core/errors.ts";
import { fakeBpftrace, printf } from "./_fake_bpftrace.ts";
import { summaryStatusFields, SyscallSession } from "./syscall_session.ts";
import type { AnomalyEvent, SyscallEvent } from "./syscall_events.ts";

Deno.test("SyscallSession ends at the traced process's exit and stops with the summary", async () => {
  await using fake = await fakeBpftrace(
    [printf("R 1000000000"), printf("X 1100000000 100")],
    [printf("M 1200000000 1"), printf("m")],
  );
  const events: (SyscallEvent | AnomalyEvent)[] = [];
  const session = await SyscallSession.start({
    pid: 100,
    bpftrace: { path: fake.path, version: "0.20.0" },
    program: fake.program,
    arch: "x86_64",
    emit: (event) => events.push(event),
  });
  assert.equal(session.pid, 100);
  assert.equal(session.arch, "x86_64");
  assert.equal(session.bpftrace.version, "0.20.0");
  assert.equal(await session.ended(), "exit");
  const summary = await session.stop({ exited: true });
  assert.equal(summary.complete, true);
  assert.equal(summary.pid, 100);
  assert.equal(await session.stop(), summary, "stop() is idempotent");
  assert.deepEqual(events.map((e) => e.kind === "syscall" && e.scope), ["total"]);
  assert.deepEqual(summaryStatusFields(summary), {
    calls: 0,
    errors: 0,
    anomalies: 0,
    lost_events: 0,
  });
});

Deno.test("SyscallSession.ended() follows a launched process's status, then its last calls", async () => {
  await using fake = await fakeBpftrace(
    [printf("R 1000000000")],
    [printf("M 1200000000 1"), printf("m")],
  );
  const session = await SyscallSession.start({
    pid: 100,
    bpftrace: { path: fake.path, version: "0.20.0" },
    program: fake.program,
  });
  const exit = Promise.withResolvers<void>();
  let ended: unknown = "not yet";
  const ending = session.ended(exit.promise).then((value) => ended = value);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(ended, "not yet", "bpftrace saw no exit and the process runs");
  exit.resolve();
  await ending;
  assert.equal(ended, "exit");
  await session.close();
});

Deno.test("SyscallSession.ended() resolves with the error when bpftrace dies", async () => {
  await using fake = await fakeBpftrace([], []);
  const program = { ...fake.program, text: `cat <<'E'\n${printf("R 1")}\nE\nsleep 0.1\nexit 3\n` };
  const session = await SyscallSession.start({
    pid: 100,
    bpftrace: { path: fake.path, version: "0.20.0" },
    program,
  });
  const ended = await session.ended();
  assert.ok(ended instanceof SidecarError, `got ${ended}`);
  assert.match(ended.message, /bpftrace stopped unexpectedly \(exit code 3\)/);
  await session.close();
});

Deno.test("SyscallSession.start() kills the held process when bpftrace cannot start", async () => {
  await using fake = await fakeBpftrace([], []);
  const program = { ...fake.program, text: "echo 'ERROR: no such tracepoint' >&2\nexit 1\n" };
  const killed: Deno.Signal[] = [];
  await assert.rejects(
    SyscallSession.start({
      pid: 100,
      bpftrace: { path: fake.path, version: "0.20.0" },
      program,
      held: { kill: (signal) => killed.push(signal) },
    }),
    SidecarError,
  );
  assert.deepEqual(killed, ["SIGKILL"]);
});

Deno.test("summaryStatusFields() gives zeros without a summary", () => {
  assert.deepEqual(summaryStatusFields(undefined), {
    calls: 0,
    errors: 0,
    anomalies: 0,
    lost_events: 0,
  });
});
