import assert from "node:assert/strict";
import { MemprofSession, type MemprofSnapshot } from "./memprof_session.ts";
import { Symbolizer } from "../../core/symbols/symbolizer.ts";

/** A stand-in for bpftrace: prints what memprof.bt would, and the final maps on SIGINT. */
const FAKE_BPFTRACE = String.raw`#!/bin/bash
printf '%s\n' "$*" > "$(dirname "$0")/args"
printf '%s %s\n' "$BPFTRACE_NO_USER_SYMBOLS" "$BPFTRACE_MAP_KEYS_MAX" > "$(dirname "$0")/env"
A='\n\t1000 0x1000 ([unknown])\n\t2000 0x2000 ([unknown])\n'
B='\n\t3000 0x3000 ([unknown])\n'
final() {
  echo '{"type": "printf", "data": "E 9\n"}'
  echo "{\"type\": \"map\", \"data\": {\"@mem\": {\"$A,0\": 16384, \"$A,1\": 0, \"$B,0\": 0}}}"
  exit 0
}
trap final INT
echo '{"type": "attached_probes", "data": {"probes": 9}}'
echo '{"type": "printf", "data": "R 1\n"}'
echo '{"type": "printf", "data": "T 2\n"}'
echo "{\"type\": \"map\", \"data\": {\"@mem\": {\"$A,0\": 16384, \"$A,1\": 256, \"$B,0\": 4096, \"$B,2\": 7}}}"
echo '{"type": "lost_events", "data": {"events": 3}}'
echo '{"type": "printf", "data": "F 5 0\n"}'
while true; do sleep 0.05; done
`;

Deno.test("MemprofSession turns bpftrace's maps into snapshots, status and trees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-memprof-session-" });
  try {
    await Deno.writeTextFile(`${dir}/bpftrace`, FAKE_BPFTRACE, { mode: 0o755 });
    const snapshots: MemprofSnapshot[] = [];
    const session = await MemprofSession.start({
      pid: Deno.pid,
      bpftrace: `${dir}/bpftrace`,
      command: "app --flag",
      maxPages: 100_000,
      periodS: 2,
      onSnapshot: (snapshot) => snapshots.push(snapshot),
      symbolizer: new Symbolizer(Deno.pid, { readMaps: () => Promise.resolve("") }),
    });
    try {
      const [args] = (await Deno.readTextFile(`${dir}/args`)).trim().split("\n");
      assert.match(args, new RegExp(`^-f json \\S+/memprof\\.bt ${Deno.pid} 0 2$`));
      assert.equal((await Deno.readTextFile(`${dir}/env`)).trim(), "1 100000");

      const deadline = Date.now() + 5000;
      while (snapshots.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const kb = session.pageSizeKb;
      const first = snapshots[0];
      assert.equal(first.final, false);
      assert.equal(first.residentKb, (16384 + 4096) * kb);
      assert.equal(first.cacheKb, 256 * kb);
      assert.equal(first.stacks.length, 2);
      assert.deepEqual(first.stacks[0].frames.map((f) => f.address), [0x1000, 0x2000]);
      assert.ok(first.process && first.process.rssKb > 0, "the RSS of the process is read");

      const status = session.status();
      assert.equal(status.command, "app --flag");
      assert.equal(status.state, "running");
      assert.equal(status.periodMs, 2000);
      assert.deepEqual(status.attributed, {
        residentKb: first.residentKb,
        cacheKb: first.cacheKb,
        stacks: 2,
      });
      assert.deepEqual(status.lost, { pages: 7, events: 3 });
      assert.ok(status.atAttach && status.atAttach.rssKb > 0);
      assert.equal(status.frozen, true); // "F": the process began exiting

      assert.equal(session.tree({ threshold: 0 }).value, first.residentKb + first.cacheKb);
      assert.deepEqual(session.short(), {
        total: first.residentKb + first.cacheKb,
        cache: first.cacheKb,
        anon: first.residentKb,
        systemReportAnon: first.process!.anonKb,
      });
      assert.equal(
        session.folded(),
        `[unknown]+0x2000;[unknown]+0x1000 ${(16384 + 256) * kb}\n[unknown]+0x3000 ${4096 * kb}\n`,
      );

      const final = await session.stop();
      assert.equal(final.final, true);
      assert.equal(final.residentKb, 16384 * kb);
      assert.equal(final.cacheKb, 0);
      assert.equal(session.status().state, "stopped");
      assert.equal(session.failure(), undefined);
      assert.equal(session.samples.length, 2);
    } finally {
      await session.stop(); // also when an assertion failed: no stray process
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MemprofSession says what bpftrace printed when it fails to start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-memprof-session-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bpftrace`,
      "#!/bin/sh\necho 'memprof.bt:12:3-20: ERROR: Could not resolve tracepoint' >&2\nexit 1\n",
      { mode: 0o755 },
    );
    await assert.rejects(
      () =>
        MemprofSession.start({
          pid: Deno.pid,
          bpftrace: `${dir}/bpftrace`,
          symbolizer: new Symbolizer(Deno.pid, { readMaps: () => Promise.resolve("") }),
        }),
      {
        name: "SidecarError",
        message:
          /bpftrace could not run memprof\.bt: it exited with code 1: .*Could not resolve tracepoint/s,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
