/**
 * `[watchdog]` of one supervised service: its notify socket (systemd's `NOTIFY_SOCKET`),
 * what the service says through it, and the two deadlines that tell a hang:
 *
 * - `timeout` (systemd's WatchdogSec): armed at `READY=1` (or at a first `WATCHDOG=1` from
 *   a service that never says it is ready), pushed back by every `WATCHDOG=1`. The
 *   service sees `WATCHDOG_USEC` and `WATCHDOG_PID` as under systemd, and may change the
 *   timeout with `WATCHDOG_USEC=` (0 turns it off) or ask for the watchdog action now
 *   with `WATCHDOG=trigger`.
 * - `silence`: armed when the service starts, pushed back by every line it prints.
 *
 * Each is one re-armed timer ({@linkcode DeadlineTimer}), never a poll. Both are off
 * between runs, once wrapp stops the service, and after `STOPPING=1`; a service stopped by
 * a signal (SIGSTOP, a debugger's breakpoint) when one expires is not hung: that timer
 * waits a whole period more.
 *
 * @module
 */

import type { WatchdogConfig } from "../../../core/config/config.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { NotifySocket } from "../../../pipeline/sources/notify_socket.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import type { HangReason } from "./hang_report.ts";
import type { NotifyMessage } from "../../../pipeline/sources/notify_message.ts";
import { procStatFields } from "../../../core/proc_stat.ts";

/** What the watchdog reports when a deadline passed (or the service sent `WATCHDOG=trigger`). */
export interface HangAlarm {
  /** Which deadline. */
  reason: HangReason;
  /** Its length, ms (none for `trigger`). */
  limitMs?: number;
  /** How long the service was quiet, ms. */
  silentMs: number;
  /** The service's pid. */
  pid: number;
}

/** What the service said that the supervisor passes on (as status events). */
export type NotifyNews =
  | { kind: "ready"; pid: number }
  | { kind: "status"; pid: number; text: string }
  | { kind: "stopping"; pid: number }
  | { kind: "reloading"; pid: number }
  | { kind: "timeout"; pid: number; timeoutMs?: number };

/** Options for {@linkcode ServiceWatchdog.open}. */
export interface ServiceWatchdogOptions {
  /** A deadline passed while the service ran: it is hung. Called once per run. */
  onHang: (alarm: HangAlarm) => void;
  /** The service said something worth reporting. */
  onNews: (news: NotifyNews) => void;
  /** Give the socket to the service's user, when wrapp switches to one. */
  owner?: { uid: number; gid: number };
  /** Where a process's state is read (`<procRoot>/<pid>/stat`). Default `/proc`. */
  procRoot?: string;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/**
 * Sets `WATCHDOG_PID` to the pid the service keeps: the shell replaces itself with the
 * rest of the command (prlimit, setpriv and wrapp's hold all exec the same way).
 */
const _WATCHDOG_PID_PREFIX = [
  "/bin/sh",
  "-c",
  'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"',
  "wrapp-watchdog",
];

/** The notify socket and hang deadlines of one service, across its restarts. */
export class ServiceWatchdog {
  readonly #config: WatchdogConfig;
  readonly #options: ServiceWatchdogOptions;
  readonly #debug: DebugLog;
  readonly #pings: DeadlineTimer;
  readonly #silence: DeadlineTimer;
  // Deadlines that last passed while the service was stopped (SIGSTOP, a debugger).
  readonly #stoppedAtDeadline = new Set<"watchdog" | "silence">();
  #socket: NotifySocket | undefined;
  #pid: number | undefined;
  #timeoutMs: number | undefined;
  #ready = false;
  #stopping = false;
  #fired = false;
  #statusText: string | undefined;

  private constructor(config: WatchdogConfig, options: ServiceWatchdogOptions) {
    this.#config = config;
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
    this.#timeoutMs = config.timeoutMs;
    this.#pings = new DeadlineTimer({ onExpire: (ms) => this.#expired("watchdog", ms) });
    this.#silence = new DeadlineTimer({ onExpire: (ms) => this.#expired("silence", ms) });
  }

  /** Bind the notify socket of `config` and start reading it. Throws when the socket cannot be made. */
  static async open(
    config: WatchdogConfig,
    options: ServiceWatchdogOptions,
  ): Promise<ServiceWatchdog> {
    const watchdog = new ServiceWatchdog(config, options);
    watchdog.#socket = await NotifySocket.open(config.socket, {
      owner: options.owner,
      onMessage: (message, text) => watchdog.#message(message, text),
    });
    return watchdog;
  }

  /** The path of the notify socket. */
  get socketPath(): string {
    return this.#config.socket;
  }

  /** The last `STATUS=` text of the current (or last) run. */
  get statusText(): string | undefined {
    return this.#statusText;
  }

  /** Whether the current run sent `READY=1`. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Datagrams read from the socket so far. */
  get received(): number {
    return this.#socket?.received ?? 0;
  }

  /** Whether a deadline is armed now (for tests and `wrapp ps`). */
  get armed(): { watchdog: boolean; silence: boolean } {
    return { watchdog: this.#pings.running, silence: this.#silence.running };
  }

  /** Environment for the service: `NOTIFY_SOCKET`, and `WATCHDOG_USEC` with a `timeout`. */
  env(): Record<string, string> {
    const env: Record<string, string> = { NOTIFY_SOCKET: this.#config.socket };
    if (this.#config.timeoutMs !== undefined) {
      env.WATCHDOG_USEC = String(this.#config.timeoutMs * 1000);
    }
    return env;
  }

  /** Command prefix that sets `WATCHDOG_PID` to the service's pid (with a `timeout`; else none). */
  prefix(): string[] {
    return this.#config.timeoutMs !== undefined ? [..._WATCHDOG_PID_PREFIX] : [];
  }

  /** A run started (and runs: not held before its exec any more): arm `silence`. */
  begin(pid: number): void {
    this.halt();
    this.#pid = pid;
    this.#timeoutMs = this.#config.timeoutMs;
    this.#ready = false;
    this.#stopping = false;
    this.#fired = false;
    this.#stoppedAtDeadline.clear();
    this.#statusText = undefined;
    if (this.#config.silenceMs !== undefined) this.#silence.start(this.#config.silenceMs);
  }

  /** The service printed a line. */
  sawOutput(): void {
    this.#stoppedAtDeadline.delete("silence"); // it runs, and its window starts again now
    this.#silence.kick();
  }

  /** wrapp is stopping the service: no deadline may fire any more in this run. */
  halt(): void {
    this.#pings.stop();
    this.#silence.stop();
  }

  /** The run ended. Datagrams that still come are not the service's any more. */
  end(): void {
    this.halt();
    this.#pid = undefined;
  }

  /** Stop everything and remove the socket. */
  async close(): Promise<void> {
    this.end();
    await this.#socket?.close();
  }

  #message(message: NotifyMessage, text: string): void {
    const pid = this.#pid;
    if (pid === undefined) {
      this.#debug(`notify between runs, ignored: ${JSON.stringify(text)}`);
      return;
    }
    if (message.invalid.length > 0) {
      this.#debug(`notify: not assignments, ignored: ${JSON.stringify(message.invalid)}`);
    }
    const news = this.#options.onNews;
    if (message.watchdogUsec !== undefined) {
      this.#timeoutMs = message.watchdogUsec === 0
        ? undefined
        : Math.max(1, Math.round(message.watchdogUsec / 1000));
      news({ kind: "timeout", pid, timeoutMs: this.#timeoutMs });
      if (this.#timeoutMs === undefined) this.#pings.stop();
      else if (this.#pings.running) this.#pings.start(this.#timeoutMs);
    }
    if (message.ready && !this.#ready) {
      this.#ready = true;
      news({ kind: "ready", pid });
      this.#armPings();
    }
    if (message.watchdog === "ping") {
      if (this.#pings.running) this.#pings.kick();
      else this.#armPings(); // a service that pings without READY=1 is running too
    }
    if (message.status !== undefined && message.status !== this.#statusText) {
      this.#statusText = message.status;
      news({ kind: "status", pid, text: message.status });
    }
    if (message.reloading) news({ kind: "reloading", pid });
    if (message.stopping && !this.#stopping) {
      this.#stopping = true;
      this.halt(); // it is on its way out: what is left is the stop's business
      news({ kind: "stopping", pid });
    }
    if (message.watchdog === "trigger") this.#fire({ reason: "trigger", silentMs: 0, pid });
  }

  #armPings(): void {
    if (this.#timeoutMs === undefined || this.#stopping || this.#fired) return;
    this.#stoppedAtDeadline.delete("watchdog");
    this.#pings.start(this.#timeoutMs);
  }

  #expired(reason: "watchdog" | "silence", silentMs: number): void {
    const pid = this.#pid;
    if (pid === undefined) return;
    const timer = reason === "watchdog" ? this.#pings : this.#silence;
    const limitMs = reason === "watchdog" ? this.#timeoutMs : this.#config.silenceMs;
    if (limitMs === undefined) return;
    if (this.#isStopped(pid)) {
      this.#debug(`${reason} deadline passed while pid ${pid} is stopped: waiting again`);
      this.#stoppedAtDeadline.add(reason);
      timer.start(limitMs);
      return;
    }
    if (this.#stoppedAtDeadline.delete(reason)) {
      // Stopped at the last deadline and running now: it may have been resumed a moment
      // ago, so a whole window from here, not the rest of the last one, proves it silent.
      this.#debug(`${reason} deadline passed after pid ${pid} was stopped: waiting once more`);
      timer.start(limitMs);
      return;
    }
    this.#fire({ reason, limitMs, silentMs, pid });
  }

  #fire(alarm: HangAlarm): void {
    if (this.#fired) return;
    this.#fired = true;
    this.halt();
    this.#debug(`watchdog: ${JSON.stringify(alarm)}`);
    this.#options.onHang(alarm);
  }

  /** Whether `pid` is stopped by a signal or held by a tracer (`T` or `t` in its stat). */
  #isStopped(pid: number): boolean {
    try {
      const stat = Deno.readTextFileSync(`${this.#options.procRoot ?? "/proc"}/${pid}/stat`);
      const state = procStatFields(stat)?.[0];
      return state === "T" || state === "t";
    } catch {
      return false;
    }
  }
}
