import assert from "node:assert/strict";
import { MEMPROF_BPF, memprofEnv, memprofParams } from "./memprof_bpf.ts";

/** The program without comments. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

Deno.test("memprof.bt attaches to tracepoints only, the ones listed for the preflight check", () => {
  const probes = [...code(MEMPROF_BPF.text).matchAll(/^([a-z_]+:[^\s{/]*|BEGIN|END)\s*$/gm)]
    .map((m) => m[1]);
  const tracepoints = probes.filter((p) => p.startsWith("tracepoint:")).map((p) =>
    p.slice("tracepoint:".length)
  );
  assert.deepEqual([...MEMPROF_BPF.tracepoints].sort(), tracepoints.sort());
  assert.deepEqual(probes.filter((p) => !p.startsWith("tracepoint:")).sort(), [
    "BEGIN",
    "END",
    "interval:s:1",
  ]);
});

Deno.test("memprof.bt stays within bpftrace 0.14 and takes numeric parameters only", () => {
  const text = code(MEMPROF_BPF.text);
  for (
    const pattern of [
      /kfunc:|fentry:|fexit:|kretfunc:|rawtracepoint:|kprobe:|uprobe:/,
      /\bfor\s*\(/,
      /\bwhile\b/,
      /\blet\b/,
      /\$\w+\s*:\s*\w+\s*=/,
      /str\(\s*\$\d/,
      /\bcurtask\b/, // needs BTF or headers
    ]
  ) {
    assert.doesNotMatch(text, pattern);
  }
  const params = new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  assert.deepEqual([...params].sort(), [1, 2, 3]);
  // Frame-pointer stacks, bounded: the stack table's size is fixed by bpftrace.
  assert.match(text, /ustack\(perf, 64\)/);
});

Deno.test("memprofParams() and memprofEnv() pass numbers only", () => {
  assert.deepEqual(memprofParams({ pid: 42 }), [42, 0, 1]);
  assert.deepEqual(memprofParams({ pid: 42, allPages: true, periodS: 0.2 }), [42, 1, 1]);
  assert.deepEqual(memprofParams({ pid: 42, periodS: 5 }), [42, 0, 5]);
  assert.deepEqual(memprofEnv(262144), {
    BPFTRACE_NO_USER_SYMBOLS: "1",
    BPFTRACE_MAP_KEYS_MAX: "262144",
  });
  assert.equal(memprofEnv(10).BPFTRACE_MAP_KEYS_MAX, "4096");
});
