import assert from "node:assert/strict";
import { SYSCALLS_PROGRAM } from "./programs.ts";

const FILE = new URL("../../../bpf/syscalls.bt", import.meta.url);

Deno.test("SYSCALLS_PROGRAM embeds bpf/syscalls.bt as it is on disk", async () => {
  assert.equal(SYSCALLS_PROGRAM.text, await Deno.readTextFile(FILE));
  assert.equal(SYSCALLS_PROGRAM.name, "syscalls.bt");
});

/** The program without comments. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

Deno.test("syscalls.bt attaches to tracepoints only, the ones listed for the preflight check", () => {
  const probes = [...code(SYSCALLS_PROGRAM.text).matchAll(/^([a-z_]+:[^\s{/]*)/gm)].map((m) =>
    m[1]
  );
  assert.deepEqual(probes.sort(), [
    "interval:s:1",
    "tracepoint:raw_syscalls:sys_enter",
    "tracepoint:raw_syscalls:sys_exit",
    "tracepoint:sched:sched_process_exit",
    "tracepoint:sched:sched_process_fork",
    "tracepoint:task:task_rename",
  ]);
  const tracepoints = probes.filter((p) => p.startsWith("tracepoint:")).map((p) =>
    p.slice("tracepoint:".length)
  );
  assert.deepEqual([...SYSCALLS_PROGRAM.tracepoints].sort(), tracepoints.sort());
});

Deno.test("syscalls.bt stays within bpftrace 0.14: no BTF-only probes or newer syntax", () => {
  const text = code(SYSCALLS_PROGRAM.text);
  for (
    const pattern of [
      /kfunc:|fentry:|fexit:|kretfunc:|rawtracepoint:/,
      /\bfor\s*\(/,
      /\bwhile\b/,
      /\blet\b/,
      /\$\w+\s*:\s*\w+\s*=/,
    ]
  ) {
    assert.doesNotMatch(text, pattern);
  }
  // Parameters are positional numbers only: no str($n), no $# tricks.
  assert.doesNotMatch(text, /str\(\s*\$\d/);
  const params = new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  assert.deepEqual([...params].sort(), [1, 2, 3, 4, 5]);
});
