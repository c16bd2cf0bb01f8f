/**
 * `wrapp trace --tui` and `--demo` driven for real in tmux: keys sent with send-keys,
 * the screen read with capture-pane, the terminal's modes with display-message.
 *
 * Needs tmux (and, for the real trace, root, bpftrace and gcc). Without them the tests
 * are ignored on a developer's machine and fail under CI (CI=true).
 */

import assert from "node:assert/strict";
import { findExecutable } from "../lib/core/find_executable.ts";
import { preflight } from "../lib/pipeline/bpf/preflight.ts";
import { SYSCALLS_PROGRAM } from "../lib/pipeline/bpf/programs.ts";
import { bundleWrapp } from "../.ci/bundle.ts";
import { MAIN, ROOT, runWrapp, tempDir, waitFor } from "./_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const hasTmux = await findExecutable("tmux") !== undefined;
const traceMissing = (await preflight({ tracepoints: SYSCALLS_PROGRAM.tracepoints })).problems;
if (await findExecutable("gcc") === undefined) traceMissing.push("gcc is not installed");

function tuiTest(
  name: string,
  needs: { trace?: boolean },
  fn: () => Promise<void>,
): void {
  const missing = [
    ...(hasTmux ? [] : ["tmux is not installed"]),
    ...(needs.trace ? traceMissing : []),
  ];
  Deno.test({
    name,
    ignore: missing.length > 0 && !CI,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (missing.length > 0) throw new Error(`Cannot run: ${missing.join("; ")}`);
      await fn();
    },
  });
}

/** A tmux server of its own running one command in a window of the given size. */
class Tmux implements AsyncDisposable {
  readonly socket = `wrapp-test-${crypto.randomUUID().slice(0, 8)}`;

  static async start(command: string, columns: number, rows: number): Promise<Tmux> {
    const tmux = new Tmux();
    // After the command, the exit code stays on the (primary) screen for the test to read.
    await tmux.run(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(columns),
      "-y",
      String(rows),
      `cd '${ROOT}' && ${command}; echo EXIT=$?; sleep 60`,
    );
    return tmux;
  }

  async run(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    return text;
  }

  screen(): Promise<string> {
    return this.run("capture-pane", "-p", "-t", "t");
  }

  /** Wait until the screen matches; returns it. */
  async waitForScreen(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    let screen = "";
    await waitFor(
      async () => pattern.test(screen = await this.screen()),
      timeoutMs,
      `${pattern} on the screen:\n${screen}`,
    ).catch(async (error) => {
      throw new Error(`${error.message}\n--- screen ---\n${await this.screen()}`);
    });
    return screen;
  }

  keys(...keys: string[]): Promise<string> {
    return this.run("send-keys", "-t", "t", ...keys);
  }

  /** A pane flag: alternate_on, cursor_flag… */
  async flag(name: string): Promise<string> {
    return (await this.run("display-message", "-p", "-t", "t", `#{${name}}`)).trim();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }
}

const WRAPP = `'${Deno.execPath()}' run -A --quiet '${MAIN}'`;

/** The table's first syscall row (the one after the column titles). */
function firstRow(screen: string): string {
  const lines = screen.split("\n");
  const titles = lines.findIndex((line) => /syscall\s+calls\s+errors/.test(line));
  return lines[titles + 1] ?? "";
}

/** The total in the header: "1,234,567 calls". */
function totalCalls(screen: string): number {
  const match = /([\d,]+) calls\s/.exec(screen);
  return match ? Number(match[1].replaceAll(",", "")) : NaN;
}

tuiTest(
  "wrapp trace --demo shows every panel; s sorts, p pauses, f filters, ? helps, q restores the terminal",
  {},
  async () => {
    await using tmux = await Tmux.start(`${WRAPP} trace --demo --fps`, 120, 36);
    let screen = await tmux.waitForScreen(/top syscalls by count[^]*▶ read[^]*anomalies/);
    for (
      const panel of [/● TRACING/, /syscalls\/s\s+now/, /latency: read/, /anomalies/, /q quit/]
    ) {
      assert.match(screen, panel);
    }
    assert.equal(await tmux.flag("alternate_on"), "1", "the view is on the alternate screen");
    assert.match(firstRow(screen), /▶ read\s+[\d,]+\s+0/);
    await tmux.waitForScreen(/frame \d+\.\d+ ms \| p99/); // --fps, after the first second

    await tmux.keys("s");
    screen = await tmux.waitForScreen(/top syscalls by time/);
    assert.match(firstRow(screen), /clock_nanosleep/, "the slowest syscall heads the time sort");

    await tmux.keys("p");
    screen = await tmux.waitForScreen(/PAUSED/);
    const paused = totalCalls(screen);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(totalCalls(await tmux.screen()), paused, "paused: the counts stay");
    await tmux.keys("p");
    await tmux.waitForScreen(/● TRACING/);
    await waitFor(async () => totalCalls(await tmux.screen()) > paused, 5000, "counts moving");

    await tmux.keys("f");
    screen = await tmux.waitForScreen(/filter file/);
    assert.match(firstRow(screen), /openat|newfstatat/);
    assert.doesNotMatch(screen, /\b(futex|epoll_pwait)\b/);

    await tmux.keys("?");
    await tmux.waitForScreen(/PgUp PgDn/);
    await tmux.keys("x");
    await tmux.waitForScreen(/top syscalls by time/);

    await tmux.keys("q");
    screen = await tmux.waitForScreen(/EXIT=0/);
    assert.equal(await tmux.flag("alternate_on"), "0", "the alternate screen was left");
    assert.equal(await tmux.flag("cursor_flag"), "1", "the cursor is back");
    assert.doesNotMatch(screen, /\+---|top syscalls/, "the view is gone from the screen");
    assert.match(screen, /wrapp: \d+ frames after the first second: mean \d+\.\d+ ms, p99/);
  },
);

tuiTest("wrapp trace --demo redraws to the new size when the terminal is resized", {}, async () => {
  await using tmux = await Tmux.start(`${WRAPP} trace --demo`, 120, 36);
  await tmux.waitForScreen(/top syscalls by count/);
  for (const [columns, rows] of [[90, 26], [150, 44]]) {
    await tmux.run("resize-window", "-t", "t", "-x", String(columns), "-y", String(rows));
    await tmux.waitForScreen(
      new RegExp(`^\\+-{${columns - 2}}\\+$`, "m"), // the rate panel spans the new width exactly
    );
    // ink rewrites the changed lines top to bottom: let the frame finish before reading it.
    await waitFor(
      async () => /q quit/.test((await tmux.screen()).split("\n")[rows - 1] ?? ""),
      5000,
      `the footer on row ${rows}`,
    ).catch(() => {}); // the assertion below says what is wrong
    const screen = await tmux.screen();
    const lines = screen.replace(/\n+$/, "").split("\n");
    assert.ok(lines.length <= rows, `${lines.length} lines in ${rows} rows`);
    assert.match(lines[rows - 1] ?? "", /q quit/, `the footer is on the last of ${rows} rows`);
    for (const line of lines) assert.ok(line.length <= columns, `too wide: "${line}"`);
  }
  await tmux.keys("q");
  await tmux.waitForScreen(/EXIT=0/);
});

tuiTest(
  "the bundle the binary embeds draws the view too (ink's CommonJS packages find require)",
  {},
  async () => {
    await using dir = await tempDir();
    await bundleWrapp(`${dir.path}/bundle`);
    // As the binary runs it: no deno.json, imports loaded when they run.
    const bundled = `'${Deno.execPath()}' run -A --quiet --no-config ` +
      `--unstable-lazy-dynamic-imports '${dir.path}/bundle/main.js'`;
    await using tmux = await Tmux.start(`${bundled} trace --demo --duration 1s`, 110, 30);
    await tmux.waitForScreen(/TRACE COMPLETE|EXIT=/);
    const screen = await tmux.screen();
    assert.match(screen, /top syscalls/, screen);
    await tmux.keys("C-c");
    await tmux.waitForScreen(/EXIT=0/);
  },
);

tuiTest(
  "wrapp trace --demo --duration shows TRACE COMPLETE until Ctrl-C; SIGTERM also restores the terminal",
  {},
  async () => {
    {
      await using tmux = await Tmux.start(`${WRAPP} trace --demo --duration 1s`, 110, 30);
      await tmux.waitForScreen(/TRACE COMPLETE/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.match(await tmux.screen(), /TRACE COMPLETE/, "it stays");
      assert.match(await tmux.screen(), /exit code 0/);
      await tmux.keys("C-c"); // raw mode: a key, not SIGINT
      await tmux.waitForScreen(/EXIT=0/);
      assert.equal(await tmux.flag("alternate_on"), "0");
    }
    await using tmux = await Tmux.start(`${WRAPP} trace --demo`, 110, 30);
    await tmux.waitForScreen(/top syscalls/);
    const shell = (await tmux.flag("pane_pid")).trim();
    const pids = await new Deno.Command("pgrep", { args: ["-P", shell], stdout: "piped" }).output();
    const wrapp = Number(new TextDecoder().decode(pids.stdout).trim().split("\n")[0]);
    assert.ok(wrapp > 0, "wrapp's pid");
    Deno.kill(wrapp, "SIGTERM");
    await tmux.waitForScreen(/EXIT=\d+/);
    assert.equal(await tmux.flag("alternate_on"), "0");
    assert.equal(await tmux.flag("cursor_flag"), "1");
  },
);

tuiTest(
  "wrapp trace --tui on a C program shows its syscalls and keeps its output off the screen",
  { trace: true },
  async () => {
    await using dir = await tempDir();
    await Deno.writeTextFile(
      `${dir.path}/noisy.c`,
      `#include <stdio.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 3000; i++) {
    getppid();
    if (i % 100 == 0) { printf("NOISE %d\\n", i); fflush(stdout); }
    usleep(500);
  }
  return 5;
}
`,
    );
    const built = await new Deno.Command("gcc", {
      args: ["-O1", "-o", `${dir.path}/noisy`, `${dir.path}/noisy.c`],
    }).output();
    assert.ok(built.success, "gcc");
    const log = `${dir.path}/noisy.log`;
    await using tmux = await Tmux.start(
      `${WRAPP} trace --tui --log '${log}' -- '${dir.path}/noisy'`,
      120,
      36,
    );
    let screen = await tmux.waitForScreen(/getppid\s+[\d,]+/, 30_000);
    assert.match(screen, new RegExp(`output: ${log.replaceAll("/", "\\/")}`));
    screen = await tmux.waitForScreen(/TRACE COMPLETE/, 30_000);
    assert.match(screen, /exit code 5/);
    assert.match(screen, /getppid\s+3,000\s+0/, "every getppid counted");
    assert.doesNotMatch(screen, /NOISE/, "the program's output is not on the screen");
    await tmux.keys("q");
    screen = await tmux.waitForScreen(/EXIT=5/);
    assert.match(screen, /wrapp: \d+ syscalls/);
    const output = await Deno.readTextFile(log);
    assert.equal(output.split("\n").filter((line) => line.startsWith("NOISE")).length, 30);
  },
);

Deno.test("wrapp trace --demo and --tui refuse to run without a terminal, and say why", async () => {
  for (const args of [["trace", "--demo"], ["trace", "--tui", "--", "true"]]) {
    const result = await runWrapp(args);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /wrapp: --(demo|tui) needs a terminal on stdin and stdout \(run it in a terminal or tmux; for scripts use --summary or --json\)/,
    );
  }
});
