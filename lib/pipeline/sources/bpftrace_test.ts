import assert from "node:assert/strict";
import { SidecarError } from "../../core/errors.ts";
import type { BpftraceMessage } from "../bpf/bpftrace_json.ts";
import { BpftraceSidecar } from "./bpftrace.ts";

/**
 * A stand-in for bpftrace: it runs its "program" with bash, so each test scripts what
 * bpftrace prints. Called as `fake -f json FILE PARAMS…`, like the real one.
 */
async function fakeBpftrace(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-fake-bpftrace-" });
  const path = `${dir}/bpftrace`;
  await Deno.writeTextFile(path, '#!/bin/bash\nshift 2\nprog=$1\nshift\nsource "$prog"\n', {
    mode: 0o755,
  });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const ATTACH = `echo '{"type": "attached_probes", "data": {"probes": 2}}'`;

Deno.test("BpftraceSidecar passes numeric parameters, delivers messages in order and stops with SIGINT", async () => {
  await using fake = await fakeBpftrace();
  const messages: BpftraceMessage[] = [];
  const sidecar = await BpftraceSidecar.start({
    bpftrace: fake.path,
    programName: "test.bt",
    params: [42, 7],
    program: `
trap 'echo "{\\"type\\": \\"printf\\", \\"data\\": \\"END\\\\n\\"}"; echo; echo "{\\"type\\": \\"map\\", \\"data\\": {\\"@n\\": {\\"1\\": 2}}}"; exit 0' INT
echo "ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace." >&2
${ATTACH}
echo "{\\"type\\": \\"printf\\", \\"data\\": \\"args $1 $2\\\\n\\"}"
echo '{"type": "lost_events", "data": {"events": 3}}'
while true; do sleep 0.05; done
`,
    onMessage: (message) => messages.push(message),
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const exit = await sidecar.stop();
  assert.equal(exit.requested, true);
  assert.equal(exit.code, 0);
  assert.deepEqual(messages, [
    { type: "attached_probes", probes: 2 },
    { type: "printf", text: "args 42 7\n" },
    { type: "lost_events", events: 3 },
    { type: "printf", text: "END\n" },
    { type: "map", format: "map", name: "@n", entries: { "1": 2 } },
  ]);
  assert.equal(sidecar.lostEvents, 3);
  assert.equal(sidecar.stderr, "", "known noise is not kept");
  assert.equal(await sidecar.stop(), exit, "stop() is idempotent");
});

Deno.test("BpftraceSidecar.start() reports what bpftrace said when it fails before attaching", async () => {
  await using fake = await fakeBpftrace();
  await assert.rejects(
    BpftraceSidecar.start({
      bpftrace: fake.path,
      programName: "broken.bt",
      params: [],
      program: `echo 'broken.bt:3:1-10: ERROR: Unknown identifier: "foo"' >&2; exit 1`,
      onMessage: () => {},
    }),
    (error: unknown) =>
      error instanceof SidecarError && error.exitCode === 69 &&
      error.message ===
        'bpftrace could not run broken.bt: it exited with code 1: broken.bt:3:1-10: ERROR: Unknown identifier: "foo"',
  );
});

Deno.test("BpftraceSidecar.start() refuses anything but integers as parameters", async () => {
  await assert.rejects(
    BpftraceSidecar.start({
      bpftrace: "/bin/false",
      programName: "x.bt",
      params: [1, 2.5],
      program: "",
      onMessage: () => {},
    }),
    { name: "RangeError", message: /\$2 = 2\.5: only integers/ },
  );
});

Deno.test("BpftraceSidecar.start() waits for the chosen ready message, and times out", async () => {
  await using fake = await fakeBpftrace();
  const sidecar = await BpftraceSidecar.start({
    bpftrace: fake.path,
    programName: "ready.bt",
    params: [],
    program:
      `trap 'exit 0' INT\n${ATTACH}\nsleep 0.1\necho '{"type": "printf", "data": "R 1\\n"}'\nwhile true; do sleep 0.05; done`,
    isReady: (m) => m.type === "printf" && m.text.startsWith("R "),
    onMessage: () => {},
  });
  await sidecar.stop();
  await assert.rejects(
    BpftraceSidecar.start({
      bpftrace: fake.path,
      programName: "slow.bt",
      params: [],
      program: "trap 'exit 0' INT; while true; do sleep 0.05; done",
      startTimeoutMs: 200,
      onMessage: () => {},
    }),
    { message: /bpftrace could not run slow\.bt: it was not ready after 200 ms/ },
  );
});

Deno.test("BpftraceSidecar.stop() kills a bpftrace that ignores SIGINT", async () => {
  await using fake = await fakeBpftrace();
  const sidecar = await BpftraceSidecar.start({
    bpftrace: fake.path,
    programName: "stubborn.bt",
    params: [],
    program: `trap '' INT\n${ATTACH}\nwhile true; do sleep 0.05; done`,
    stopTimeoutMs: 200,
    onMessage: () => {},
  });
  const exit = await sidecar.stop();
  assert.equal(exit.signal, "SIGKILL");
});
