/**
 * wrapp as a library: the event types, the pipeline pieces and the sinks, for embedding
 * wrapp's framing and trace writing in another Deno program.
 *
 * ```ts
 * import { loadConfig, runService } from "@wrapp/wrapp";
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
} from "./lib/core/event.ts";
export { encodeEvent, now } from "./lib/core/event.ts";
export * from "./lib/core/errors.ts";
export type { Config } from "./lib/core/config/config.ts";
export { loadConfig } from "./lib/core/config/load_config.ts";
export { formatConfig } from "./lib/core/config/format_config.ts";
export { Router, type RouterOptions } from "./lib/pipeline/router.ts";
export type { Sink, SinkStats } from "./lib/pipeline/sinks/sink.ts";
export { MemorySink } from "./lib/pipeline/sinks/memory.ts";
export { TraceEventFileSink } from "./lib/pipeline/sinks/trace_event_file.ts";
export { RedisSink, type RedisSinkOptions } from "./lib/pipeline/sinks/redis.ts";
export { LineSplitter, type SplitLine } from "./lib/pipeline/transforms/split_lines.ts";
export { MultilineJoiner } from "./lib/pipeline/transforms/join_multiline.ts";
export { MarkerExtractor } from "./lib/pipeline/transforms/extract_markers.ts";
export { checkPerfettoRules, checkTraceFileText } from "./lib/pipeline/tef/perfetto_rules.ts";
export {
  type RunResult,
  runService,
  type RunServiceOptions,
} from "./lib/features/run/supervisor.ts";
export { VERSION } from "./lib/core/version.ts";
