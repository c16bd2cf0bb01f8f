import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

// `wrapp run` is what sits on the robot all day: whatever its modules import statically is
// loaded at start and stays in memory. These tests walk the static import graph (what
// `deno info --json` reports, dynamic `import()` edges left out) and name what must not be
// in it.

const ROOT = new URL("../", import.meta.url);

interface _Graph {
  roots: string[];
  redirects: Record<string, string>;
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

/** Files (relative to the repository) and `npm:` packages `entry` reaches without an `import()`. */
async function _staticGraph(entry: string): Promise<Set<string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: fileURLToPath(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `deno info --json ${entry} failed: ${stderr}`);
  const graph: _Graph = JSON.parse(new TextDecoder().decode(output.stdout));
  const modules = new Map(graph.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const stack = [...graph.roots];
  while (stack.length > 0) {
    const next = stack.pop()!;
    const specifier = graph.redirects[next] ?? next;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      // deno_graph marks an edge dynamic only when every import of that specifier is.
      if (dependency.code && !dependency.isDynamic) stack.push(dependency.code.specifier);
    }
  }
  return new Set(
    [...seen].map((specifier) =>
      specifier.startsWith(ROOT.href)
        ? specifier.slice(ROOT.href.length)
        : specifier.replace(/^npm:\/?/, "npm:").replace(/^(npm:@?[^@]+)@.*$/, "$1")
    ),
  );
}

/** What `run` must reach only through an `import()`, if at all. */
function _forbidden(module: string): boolean {
  return /^npm:(ink|react|react-reconciler|@types\/react|playwright-core|ioredis)$/.test(module) ||
    module.startsWith("lib/features/trace/") ||
    module.startsWith("lib/features/record/") ||
    module.startsWith("lib/features/memprof/") ||
    // [trace], [memprof] and [redis] load when a config has them.
    module === "lib/features/run/service_trace.ts" ||
    module === "lib/pipeline/sinks/redis.ts" ||
    module.startsWith("lib/pipeline/sinks/redis/") ||
    module === "lib/pipeline/sources/redis_control.ts" ||
    // A crash, [debug], the crash watcher and the local trace load what they need when used.
    module === "lib/features/run/crash/crash_report.ts" ||
    module === "lib/features/run/crash/ebpf_backtrace.ts" ||
    module === "lib/features/run/service_debug.ts" ||
    module === "lib/pipeline/sinks/trace_event_file.ts" ||
    // Deno sets up its Node layer at the first node: import: 50-130 ms of every start.
    module.startsWith("node:") ||
    // Other commands and their help texts.
    (/^lib\/cli\/\w+_command\.ts$/.test(module) && module !== "lib/cli/run_command.ts") ||
    module === "lib/cli/help.ts";
}

Deno.test("main.ts loads no command before it is dispatched", async () => {
  const graph = await _staticGraph("main.ts");
  assert.ok(graph.has("lib/cli/cli.ts"), `the walk found ${[...graph].join(", ")}`);
  assert.deepEqual([...graph].filter(_forbidden), []);
  assert.ok(!graph.has("lib/cli/run_command.ts"), "run_command.ts is imported statically");
});

Deno.test("the run command's static imports reach no TUI, React, ink, memprof, record, playwright or node: module", async () => {
  const graph = await _staticGraph("lib/cli/run_command.ts");
  // The walk itself works: these are static imports of a run.
  for (
    const expected of ["lib/features/run/supervisor.ts", "lib/pipeline/router.ts", "npm:smol-toml"]
  ) {
    assert.ok(graph.has(expected), `${expected} missing from ${[...graph].join(", ")}`);
  }
  assert.deepEqual([...graph].filter(_forbidden), []);
});

Deno.test("what [redis] loads (the sink, the control stream) reaches no ioredis, node: module or crash report", async () => {
  for (const entry of ["lib/pipeline/sinks/redis.ts", "lib/pipeline/sources/redis_control.ts"]) {
    const graph = await _staticGraph(entry);
    assert.ok(graph.has("lib/pipeline/sinks/resp_client.ts"), `${entry}: ${[...graph].join(", ")}`);
    assert.deepEqual(
      [...graph].filter((module) =>
        module === "npm:ioredis" || module.startsWith("node:") ||
        module.startsWith("lib/features/run/crash/crash_report.ts") ||
        // The crash and hang encoders load with the first crash or hang to encode.
        module.startsWith("lib/pipeline/sinks/encode/")
      ),
      [],
      entry,
    );
  }
});

Deno.test("what a run loads when it needs it (the crash watcher, a crash report, a set of configs) reaches no node: module", async () => {
  // The crash watcher starts with every run as root: node:path alone cost it 15 ms of
  // start-up (Deno's Node layer), for one basename().
  for (
    const entry of [
      "lib/features/run/crash/ebpf_backtrace.ts",
      "lib/features/run/crash/crash_report.ts",
      "lib/features/run/config_set.ts",
    ]
  ) {
    const graph = await _staticGraph(entry);
    assert.ok(graph.has(entry), `${entry}: ${[...graph].join(", ")}`);
    assert.deepEqual([...graph].filter((module) => module.startsWith("node:")), [], entry);
  }
});

Deno.test("_forbidden() names the modules of the TUI, memprof, record, playwright, crash reports, the Redis sink, node: and other commands", () => {
  for (
    const module of [
      "npm:ink",
      "npm:react",
      "npm:playwright-core",
      "npm:@types/react",
      "lib/features/trace/run_trace_tui.ts",
      "lib/features/record/recorder.ts",
      "lib/features/memprof/page_assets.ts",
      "lib/features/memprof/http_server.ts",
      "lib/cli/trace_command.ts",
      "lib/cli/memprof_command.ts",
      "lib/features/run/crash/crash_report.ts",
      "lib/pipeline/sinks/redis/backlog.ts",
      "node:path",
    ]
  ) assert.ok(_forbidden(module), module);
  assert.ok(!_forbidden("lib/cli/run_command.ts"));
  assert.ok(!_forbidden("lib/core/symbols/symbolizer.ts"));
});
