/**
 * wrapp as a library: the event types, the pipeline pieces and the sinks, for embedding
 * wrapp's framing and trace writing in another Deno program.
 *
 * ```ts
 * import { loadConfig, runService } from "./mod.ts";
 * const result = await runService(await loadConfig("examples/hello.toml"));
 * console.log(result.exitCode, result.tracePath);
 * ```
 *
 * @module
 */

export type {
  Event,
  EventEncoders,
  LogEvent,
  MetricEvent,
  OutputStream,
  StatusEvent,
} from "./lib/event.ts";
export { encodeEvent, now } from "./lib/event.ts";
export * from "./lib/errors.ts";
export type { Config } from "./lib/config/config.ts";
export { loadConfig } from "./lib/config/load_config.ts";
export { formatConfig } from "./lib/config/format_config.ts";
export { Router, type RouterOptions } from "./lib/router.ts";
export type { Sink, SinkStats } from "./lib/sinks/sink.ts";
export { MemorySink } from "./lib/sinks/memory.ts";
export { TraceEventFileSink } from "./lib/sinks/trace_event_file.ts";
export { RedisSink, type RedisSinkOptions } from "./lib/sinks/redis.ts";
export { LineSplitter, type SplitLine } from "./lib/transforms/split_lines.ts";
export { MultilineJoiner } from "./lib/transforms/join_multiline.ts";
export { MarkerExtractor } from "./lib/transforms/extract_markers.ts";
export { checkPerfettoRules, checkTraceFileText } from "./lib/tef/perfetto_rules.ts";
export { type RunResult, runService, type RunServiceOptions } from "./lib/supervise/supervisor.ts";
export { VERSION } from "./lib/version.ts";
