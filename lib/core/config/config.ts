/**
 * The effective configuration of one supervised service, after defaults are applied.
 * {@linkcode loadConfig} in `load_config.ts` produces it from a TOML or JSON file.
 *
 * @module
 */

/** `[app]`: what to run and how. */
export interface AppConfig {
  /** Program to run: an absolute path, a path relative to the config file's folder, or a name looked up in PATH. */
  executable: string;
  /** The executable resolved to an absolute path (filled in by loadConfig). */
  resolvedExecutable: string;
  /** Arguments passed to the program. Default `[]`. */
  args: string[];
  /** Run the program as this user (needs root). Default: the current user. */
  user?: string;
  /** Run the program with this primary group (needs root). Default: the user's primary group. */
  group?: string;
  /** Name used for streams, keys and trace folders. Default: the executable's base name. */
  streamName: string;
  /** Working directory of the program (absolute). Default: the config file's folder. */
  cwd: string;
  /** Extra environment variables for the program. Default `{}`. */
  env: Record<string, string>;
  /** Whether the program inherits wrapp's environment. Default `true`. */
  inheritEnv: boolean;
  /** Milliseconds between forwarding SIGTERM/SIGINT and sending SIGKILL. Default 10000. */
  stopGraceMs: number;
}

/** `[output]`: how the program's output is framed. */
export interface OutputConfig {
  /** Echo the program's output to wrapp's own stdout/stderr (so journald sees it). Default `true`. */
  echo: boolean;
  /** Lines longer than this many bytes are split into marked parts. Default 65536. */
  maxLineBytes: number;
  /** Text that opens a multi-line block. Default `">>|"`. */
  multilineStart: string;
  /** Text that closes a multi-line block. Default `"|<<"`. */
  multilineEnd: string;
  /** An open block is flushed after this many lines. Default 1000. */
  multilineMaxLines: number;
  /** An open block is flushed after this many bytes. Default 1048576. */
  multilineMaxBytes: number;
  /** An open block is flushed this many ms after it opened. Default 5000. */
  multilineTimeoutMs: number;
  /** Turn `{{name}}` / `{{name:value}}` markers into metric events. Default `true`. */
  markers: boolean;
}

/** `[local]`: the embedded trace sink (JSON lines while running, trace.json at exit). */
export interface LocalConfig {
  /** Whether the local trace is written. Default: `true` without `[redis]`, `false` with it. */
  enabled: boolean;
  /** Folder holding one sub-folder per run. Default `$XDG_STATE_HOME/wrapp/<name>` (`/var/lib/wrapp/<name>` for root). */
  dir: string;
  /** How many past runs to keep in `dir`; older run folders are deleted at start. Default 20. */
  keepRuns: number;
}

/** `[restart]`: what happens when the service exits. */
export interface RestartConfig {
  /** `never` (wrapp exits with the service's code, like the original wrapp), `on-failure` (restart after a non-zero exit or a signal), or `always`. Default `never`. */
  policy: "never" | "on-failure" | "always";
  /** Wait before the first restart, ms; doubled after each quick restart. Default 1000. */
  delayMs: number;
  /** The wait never grows beyond this, ms. Default 30000. */
  maxDelayMs: number;
  /** A run that lasted this long resets the wait to `delayMs`, ms. Default 60000. */
  resetAfterMs: number;
  /** Give up (exit non-zero) after this many restarts within `windowMs`. Default 5. */
  maxRestarts: number;
  /** The sliding window `maxRestarts` counts restarts in, ms. Default 300000. */
  windowMs: number;
}

/** `[crash]`: crash reports when the service dies from a core-dumping signal. */
export interface CrashConfig {
  /** Make a crash report (core, gdb backtrace) and send it to every sink. Default `true`. */
  enabled: boolean;
  /** Raise the service's RLIMIT_CORE to unlimited (through prlimit) so the kernel writes a core. Default `false`. */
  coreDumps: boolean;
  /** Watch the service with bpftrace for the fatal signal and record its user stack, for a backtrace without a core (root only). Default `true`. */
  ebpfBacktrace: boolean;
  /** How long to wait for the core to appear and be complete, ms. Default 10000. */
  coreTimeoutMs: number;
  /** The debugger to run on the core. Default `"gdb"`. */
  gdb: string;
  /** gdb is killed after this long, ms. Default 30000. */
  gdbTimeoutMs: number;
}

/** `[trace]`: syscall tracing of the service and its children (as `wrapp trace`; needs root and bpftrace). */
export interface TraceConfig {
  /** Trace when the section is present. Default `true`. */
  enabled: boolean;
  /** A call more than this many standard deviations above its syscall's mean is an anomaly. Default 3. */
  threshold: number;
  /** A call slower than this is an anomaly whatever its z-score, ms. Default: none. */
  slowMs?: number;
  /** Only calls at least this slow are examined one by one, ms. Default 1. */
  floorMs: number;
  /** Statistics per thread. Default `false`. */
  perThread: boolean;
}

/** `[memprof]`: page-level memory profile of the service, like `wrapp memprof`. */
export interface MemprofConfig {
  /** Profile when the section is present. Default `true`. */
  enabled: boolean;
  /** A snapshot (counters and the top allocation sites) goes to the sinks this often, ms. Default 10000. */
  everyMs: number;
  /** Allocation sites per snapshot. Default 10. */
  top: number;
  /** Serve the browser page and TezEdge API here while the service runs; `""` for none. Default `"127.0.0.1:17832"`. */
  listen: string;
  /** Page allocations tracked at once. Default 262144. */
  maxPages: number;
  /** Also count kernel pages allocated for the process. Default `false`. */
  allPages: boolean;
}

/** `[metrics]`: resource usage of the service's process tree, sampled from /proc. */
export interface MetricsConfig {
  /** Sample while the service runs. Default `true`. */
  enabled: boolean;
  /** Time between samples, ms. Default 5000. */
  everyMs: number;
}

/** `[limits]`: what the service may use, like systemd's `MemoryMax=` and `CPUQuota=`. */
export interface LimitsConfig {
  /** Most memory of the service, bytes: a cgroup's limit (OOM kill), else wrapp restarts it over this RSS. Default: none. */
  memoryMaxBytes?: number;
  /** Most CPU time, percent of one core (200 = two cores); enforced only in a cgroup. Default: none. */
  cpuMaxPercent?: number;
}

/** `[redis]`: the Redis Streams sink (layout compatible with the original wrapp). */
export interface RedisConfig {
  /** Redis server host name or address (from `host` or `url`). Default `"127.0.0.1"`. */
  host: string;
  /** Redis server port. Default 6379. */
  port: number;
  /** Connect with TLS (`tls = true` or a `rediss://` URL). Default `false`. */
  tls: boolean;
  /** ACL user name (from `username`, the URL, or `secrets_dir`'s base name). Default: none (the `default` user). */
  username?: string;
  /** Password from `password`, `password_file`, `secrets_dir`, the URL or `$WRAPP_REDIS_PASSWORD`. Never print it. */
  password?: string;
  /** Where `password` came from (set with it); `wrapp check` says so instead of printing it. */
  passwordSource?: "password" | "password_file" | "secrets_dir" | "url" | "env";
  /** Absolute path of `password_file`, when given. */
  passwordFile?: string;
  /** The `url` as written, when given (it overrides host, port, tls and credentials). Never print it: it may hold the password. */
  url?: string;
  /** Database of the log streams. Default 1. */
  dbLogs: number;
  /** Database of the marker values and counters. Default 2. */
  dbValues: number;
  /** Database of the state hash and the control stream. Default 5. */
  dbState: number;
  /** `XADD … MAXLEN ~ maxLen`. Default 1000. */
  maxLen: number;
  /** PING and heartbeat interval, ms. Default 60000. */
  healthIntervalMs: number;
  /** Events held in memory while Redis is slow or down, before the spool. Default 100000. */
  memoryQueue: number;
  /** On-disk spool folder. Default `<state dir>/spool`. */
  spoolDir: string;
  /** Spool size limit in bytes. Default 256 MiB. */
  spoolMaxBytes: number;
  /** When every limit is reached: delete the oldest waiting events, or slow the service's output down. Default `drop_oldest`. */
  policy: "drop_oldest" | "block";
  /**
   * What entries look like. `go`: exactly what a Go-wrapp consumer reads (stdout and stderr
   * in `:info`, markers removed from the text, lines trimmed, empty lines dropped, run
   * separators); `wrapp`: the richer layout (stderr in `:error`, lines as printed). Both
   * carry `message` and our extra fields. Default `go`.
   */
  layout: RedisLayout;
  /** Absolute path of `secrets_dir` (user = its base name, password = `<dir>/password`), when given. */
  secretsDir?: string;
  /**
   * Redis Sentinels (`"host:port"`, port 26379 when left out) that name the master, instead
   * of `host`/`port`/`url`: after a failover wrapp asks them for the new master and goes on.
   * `tls` applies to the Sentinels too; `username`/`password` only to the master.
   */
  sentinels?: string[];
  /** The master's name in the Sentinels' `sentinel monitor` line; required with `sentinels`. */
  masterName?: string;
  /** ACL user name for the Sentinels. Default: none. */
  sentinelUsername?: string;
  /** Password for the Sentinels (their `requirepass`). Never print it. Default: none. */
  sentinelPassword?: string;
  /**
   * Replicas that must hold a batch (`WAIT <n> <timeout>`) before it leaves the spool; a
   * batch fewer replicas confirm is sent again (duplicates possible, never a loss when the
   * master dies). Default 0: the master's reply is enough.
   */
  replicasAck: number;
  /** How long each `WAIT` waits for the replicas, ms. Default 1000. */
  replicasAckTimeoutMs: number;
}

/** The two entry layouts of the Redis sink; see {@linkcode RedisConfig.layout}. */
export type RedisLayout = "go" | "wrapp";

/** `[debug]`: step-debug the service with gdbserver (as the Go wrapp's `debug` section). */
export interface DebugConfig {
  /** Hold the service before its first instruction and attach gdbserver. Default `false`. */
  enabled: boolean;
  /** Address gdbserver listens on. Default `"127.0.0.1"`. */
  host: string;
  /** Port gdbserver listens on. Default 2345. */
  port: number;
}

/**
 * `[watchdog]`: the systemd notify protocol (`NOTIFY_SOCKET`) and hang detection. On a
 * hang, gdb takes every thread's backtrace of the live service, the report goes to every
 * sink, and the service is stopped (SIGTERM, SIGKILL after `stop_grace`) and restarted
 * under `[restart]`.
 */
export interface WatchdogConfig {
  /** Listen on the notify socket and watch when the section is present. Default `true`. */
  enabled: boolean;
  /** Systemd's WatchdogSec: once the service sent `READY=1` (or a first `WATCHDOG=1`), a `WATCHDOG=1` must come at least this often, ms. Default: none. */
  timeoutMs?: number;
  /** For services that cannot notify: hung when no output line came for this long, ms. Default: none. */
  silenceMs?: number;
  /** Absolute path of the notify socket. Default `/run/wrapp/<name>/notify.sock` for root, else under `$XDG_RUNTIME_DIR`, else the state folder. */
  socket: string;
}

/**
 * A fully validated configuration.
 *
 * @example Reading a loaded config
 * ```ts
 * import { type Config, loadConfig } from "@wrapp/wrapp";
 *
 * const config: Config = await loadConfig("examples/hello.toml");
 * console.log(config.app.streamName); // "hello"
 * console.log(config.app.resolvedExecutable); // "/…/examples/hello.sh"
 * ```
 */
export interface Config {
  /** Absolute path of the file it came from (or `"<embedded>"`). */
  file: string;
  app: AppConfig;
  output: OutputConfig;
  local: LocalConfig;
  restart: RestartConfig;
  crash: CrashConfig;
  metrics: MetricsConfig;
  /** Present when the file has a `[limits]` section. */
  limits?: LimitsConfig;
  /** Present when the file has an enabled `[trace]` section. */
  trace?: TraceConfig;
  /** Present when the file has a `[memprof]` section with `enabled = true`. */
  memprof?: MemprofConfig;
  /** Present when the file has a `[redis]` section. */
  redis?: RedisConfig;
  /** Present when the file has a `[debug]` section with `enabled = true`. */
  debug?: DebugConfig;
  /** Present when the file has a `[watchdog]` section with `enabled = true`. */
  watchdog?: WatchdogConfig;
}
