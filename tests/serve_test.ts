/**
 * `wrapp serve`, `list`, `get-tef` and `clear` as real processes: signals, a stale or live
 * socket, many concurrent clients, the example client, and the trace files they leave.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { checkTraceFileText } from "../lib/pipeline/tef/perfetto_rules.ts";
import { writeAll } from "../lib/pipeline/tef/assemble_trace.ts";
import { ROOT, tempDir, waitFor, type WrappOutput } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

/**
 * The file run as wrapp. lib/cli/cli.ts does not dispatch serve/list/get-tef/clear yet, so
 * this is a test-only entry; once it does, make this `MAIN` (from ./_helpers.ts).
 */
const ENTRY = fromFileUrl(new URL("../main.ts", import.meta.url));

const EXAMPLE_CLIENT = join(ROOT, "examples", "tldrs_client.py");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Start `wrapp ARGS…` with piped output. */
function spawn(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ENTRY, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Run `wrapp ARGS…` to completion. */
async function run(args: string[], env: Record<string, string> = {}): Promise<WrappOutput> {
  const output = await spawn(args, env).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A running `wrapp serve`, killed when disposed if still running. */
interface Daemon extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly socket: string;
  readonly dir: string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Resolves with its exit code once it has exited and its stderr is read. */
  readonly exited: Promise<number>;
}

/** Start `wrapp serve --socket <root>/tldrs.socket --dir <root>/traces` and wait until it listens. */
async function startServe(root: string, extra: string[] = []): Promise<Daemon> {
  const socket = join(root, "tldrs.socket");
  const dir = join(root, "traces");
  const child = spawn(["serve", "--socket", socket, "--dir", dir, ...extra]);
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const drainStdout = child.stdout.pipeTo(new WritableStream());
  const exited = Promise.all([child.status, reading, drainStdout]).then(([status]) => status.code);
  let done = false;
  exited.then(() => done = true);
  await waitFor(
    () => done || stderr.includes("wrapp serve: listening on"),
    15_000,
    "serve to listen",
  );
  if (done) throw new Error(`wrapp serve exited early:\n${stderr}`);
  return {
    child,
    socket,
    dir,
    stderr: () => stderr,
    exited,
    async [Symbol.asyncDispose]() {
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone already.
        }
      }
      await exited;
    },
  };
}

/** Connect to `socket`, send `text`, and close (or keep the connection when `keep`). */
async function send(socket: string, text: string): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await writeAll(conn as unknown as Deno.FsFile, encoder.encode(text));
  } finally {
    conn.close();
  }
}

function instant(pid: number, i: number): string {
  return JSON.stringify({ ph: "i", name: `e${pid}.${i}`, ts: i, pid, tid: pid, s: "t" });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function lineCount(path: string): Promise<number> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.length === 0 ? 0 : text.split("\n").length - 1;
}

Deno.test("wrapp serve: 20 concurrent clients × 500 events on one trace id, each once, never interleaved", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  await Promise.all(Array.from({ length: 20 }, async (_, c) => {
    const lines = Array.from({ length: 500 }, (_, i) => instant(100 + c, i));
    await send(daemon.socket, `OPEN shared\n${lines.join("\n")}\n`);
  }));
  const path = join(daemon.dir, "shared.jsonl");
  await waitFor(async () => await lineCount(path) === 10_000, 10_000, "10000 lines");
  const names = new Set<string>();
  for (const line of (await Deno.readTextFile(path)).trimEnd().split("\n")) {
    names.add(JSON.parse(line).name);
  }
  assert.equal(names.size, 10_000);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  assert.match(
    daemon.stderr(),
    /stopped \(SIGTERM\): 2\d connections, 10000 events written, 0 lines rejected/,
  );
});

Deno.test("wrapp serve refuses escaping trace ids and bad lines, keeps the connection, and EMIT_TEF needs an absolute path", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  const target = join(root.path, "emitted.json");
  const conn = await Deno.connect({ transport: "unix", path: daemon.socket });
  const lines = [
    "OPEN ../../escape",
    instant(1, 0),
    "OPEN /tmp/escape",
    "OPEN ok",
    instant(1, 1),
    '{"ph":"i","name":"cut',
    instant(1, 2),
    "EMIT_TEF trace.json",
    `EMIT_TEF ${target}`,
  ];
  await writeAll(conn as unknown as Deno.FsFile, encoder.encode(lines.join("\n") + "\n"));
  await waitFor(() => exists(target), 10_000, "EMIT_TEF output");
  conn.close();
  const text = await Deno.readTextFile(target);
  assert.deepEqual(checkTraceFileText(text), []);
  assert.deepEqual(JSON.parse(text).map((e: { name: string }) => e.name), ["e1.1", "e1.2"]);
  assert.equal(await exists(join(root.path, "escape.jsonl")), false);
  assert.equal(await exists("/tmp/escape.jsonl"), false);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  const stderr = daemon.stderr();
  assert.ok(
    stderr.includes('client 1, line 1: refused trace id "../../escape": it starts with "."'),
    stderr,
  );
  assert.ok(
    stderr.includes("client 1, line 2: event without a trace: the OPEN on line 1 was refused"),
  );
  assert.ok(stderr.includes('client 1, line 3: refused trace id "/tmp/escape": it contains "/"'));
  assert.match(
    stderr,
    /client 1 \(trace "ok"\), line 6: not valid JSON \(.+\): \{"ph":"i","name":"cut\n/,
  );
  assert.ok(stderr.includes(
    'client 1 (trace "ok"), line 8: EMIT_TEF needs an absolute path (the daemon does not know the client\'s working directory), got "trace.json"',
  ));
  assert.ok(stderr.includes(`EMIT_TEF: wrote trace "ok" (2 events) to "${target}"`));
  assert.ok(
    stderr.includes(
      "2 events written, 5 lines rejected (json 1, trace_id 2, relative_path 1, no_trace 1)",
    ),
  );
});

Deno.test("wrapp serve: EMIT_TEF over an existing file keeps its permission bits; a new file is 0644 less the umask", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  const privateTarget = join(root.path, "private.json");
  const sharedTarget = join(root.path, "shared.json");
  const newTarget = join(root.path, "new.json");
  await Deno.writeTextFile(privateTarget, "old", { mode: 0o600 });
  await Deno.writeTextFile(sharedTarget, "old");
  await Deno.chmod(sharedTarget, 0o664); // beyond the umask: kept exactly
  const lines = [
    "OPEN modes",
    instant(1, 0),
    `EMIT_TEF ${privateTarget}`,
    `EMIT_TEF ${sharedTarget}`,
    `EMIT_TEF ${newTarget}`,
  ];
  await send(daemon.socket, lines.join("\n") + "\n");
  await waitFor(
    () => daemon.stderr().includes(`to "${newTarget}"`),
    10_000,
    "the three EMIT_TEF",
  );
  const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
  assert.equal((await mode(privateTarget)).toString(8), "600");
  assert.equal((await mode(sharedTarget)).toString(8), "664");
  assert.equal((await mode(newTarget)).toString(8), (0o644 & ~Deno.umask()).toString(8));
  for (const target of [privateTarget, sharedTarget, newTarget]) {
    assert.equal(JSON.parse(await Deno.readTextFile(target)).length, 1);
  }
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM). */
async function statusKiB(pid: number, field: string): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)![1]);
}

Deno.test("wrapp serve: 100 clients with 1 MB unfinished lines are bounded across connections; the largest are cut and counted", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  const pid = daemon.child.pid;
  // Warm up (a connection, a trace, an event) before the baseline.
  await send(daemon.socket, `OPEN warm\n${instant(1, 0)}\n`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = await statusKiB(pid, "VmHWM");
  const unfinished = encoder.encode("x".repeat(1_000_000));
  const conns = await Promise.all(
    Array.from({ length: 100 }, () => Deno.connect({ transport: "unix", path: daemon.socket })),
  );
  await Promise.all(conns.map(async (conn, i) => {
    await writeAll(conn as unknown as Deno.FsFile, encoder.encode(`OPEN big${i}\n`));
    await writeAll(conn as unknown as Deno.FsFile, unfinished);
  }));
  // The kernel took every byte; let the daemon read the last of them (its RSS settles).
  let last = -1;
  for (let steady = 0, i = 0; steady < 3 && i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rss = await statusKiB(pid, "VmRSS");
    steady = rss === last ? steady + 1 : 0;
    last = rss;
  }
  const grownMiB = ((await statusKiB(pid, "VmHWM")) - before) / 1024;
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  for (const conn of conns) conn.close();
  const stderr = daemon.stderr();
  console.log(`peak RSS grew by ${grownMiB.toFixed(1)} MiB`);
  // 100 MB were sent (held whole, the peak grew by ~108 MiB). Now at most 8 MiB of lines
  // are held, plus 100 read buffers of 64 KiB and the cut lines until V8 collects them.
  assert.ok(grownMiB < 70, `peak RSS grew by ${grownMiB.toFixed(1)} MiB\n${stderr}`);
  assert.match(
    stderr,
    /cut its unfinished line after \d+ bytes \(the rest is skipped\): the unfinished lines of all connections held more than 8388608 bytes, this one the most/,
  );
  const cut = Number(/(\d+) unfinished lines cut to bound memory/.exec(stderr)?.[1]);
  // At most 8 whole lines of 1 MB fit in 8 MiB.
  assert.ok(cut >= 100 - 8, `${cut} lines cut\n${stderr}`);
});

Deno.test("wrapp serve: SIGTERM writes every event and pending EMIT_TEF_AT_EXIT traces, removes the socket, exits 0", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  const target = join(root.path, "at-exit.json");
  // A client still connected when the daemon stops.
  const conn = await Deno.connect({ transport: "unix", path: daemon.socket });
  const events = Array.from({ length: 1000 }, (_, i) => instant(7, i)).join("\n");
  await writeAll(
    conn as unknown as Deno.FsFile,
    encoder.encode(`OPEN kept\nEMIT_TEF_AT_EXIT ${target}\n${events}\n`),
  );
  // Once OPEN has made the file the connection is accepted; the events may still sit in
  // the socket buffer or the write queue when SIGTERM comes, and must all be kept.
  await waitFor(() => exists(join(daemon.dir, "kept.jsonl")), 10_000, "trace file");
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  conn.close();
  assert.equal(await lineCount(join(daemon.dir, "kept.jsonl")), 1000);
  assert.equal(await exists(daemon.socket), false);
  const text = await Deno.readTextFile(target);
  assert.deepEqual(checkTraceFileText(text), []);
  assert.equal(JSON.parse(text).length, 1000);
  assert.match(daemon.stderr(), /stopped \(SIGTERM\): 1 connection, 1000 events written/);
});

Deno.test("wrapp serve: DIE removes the socket and exits 0", async () => {
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  await send(daemon.socket, `OPEN d\n${instant(1, 0)}\nDIE\n`);
  assert.equal(await daemon.exited, 0);
  assert.equal(await exists(daemon.socket), false);
  assert.equal(await lineCount(join(daemon.dir, "d.jsonl")), 1);
  assert.match(daemon.stderr(), /client 1 \(trace "d"\) sent DIE: stopping\n.*stopped \(DIE\)/s);
});

Deno.test("wrapp serve replaces a stale socket left by a killed daemon", async () => {
  await using root = await tempDir();
  {
    await using first = await startServe(root.path);
    first.child.kill("SIGKILL");
    await first.exited;
    assert.ok((await Deno.lstat(first.socket)).isSocket, "SIGKILL leaves the socket behind");
  }
  await using second = await startServe(root.path);
  assert.ok(
    second.stderr().includes(
      `wrapp serve: Replaced the stale socket "${second.socket}" left by a collector that died`,
    ),
  );
  await send(second.socket, `OPEN s\n${instant(1, 0)}\nDIE\n`);
  assert.equal(await second.exited, 0);
  assert.equal(await lineCount(join(second.dir, "s.jsonl")), 1);
});

Deno.test("wrapp serve never takes the socket of a live daemon", async () => {
  await using root = await tempDir();
  await using first = await startServe(root.path);
  const second = await run(["serve", "--socket", first.socket, "--dir", join(root.path, "other")]);
  assert.equal(second.code, 1);
  assert.equal(
    second.stderr.trim(),
    `wrapp: Cannot listen on "${first.socket}": another wrapp serve (pid ${first.child.pid}) is running`,
  );
  // The first daemon still has its socket and still records.
  await send(first.socket, `OPEN live\n${instant(1, 0)}\nDIE\n`);
  assert.equal(await first.exited, 0);
  assert.equal(await lineCount(join(first.dir, "live.jsonl")), 1);
});

Deno.test("wrapp list, get-tef latest (to a file and to stdout) and clear", async () => {
  await using root = await tempDir();
  const dir = join(root.path, "traces");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "older.jsonl"), `${instant(1, 0)}\n${instant(1, 1)}\n`);
  await Deno.utime(join(dir, "older.jsonl"), 1000, 1000);
  await Deno.writeTextFile(join(dir, "newer.jsonl"), `${instant(2, 0)}\n`);
  await Deno.writeTextFile(join(dir, "notes.txt"), "kept");

  const list = await run(["list", "--dir", dir]);
  assert.equal(list.code, 0, list.stderr);
  const rows = list.stdout.trimEnd().split("\n");
  assert.match(rows[0], /^TRACE ID +EVENTS +SIZE +MODIFIED$/);
  assert.match(rows[1], /^older +2 +\d+ B +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(rows[2], /^newer +1 +\d+ B /);
  assert.equal(rows[3], `2 traces in "${dir}"`);

  const out = join(root.path, "latest.json");
  const toFile = await run(["get-tef", "latest", "--dir", dir, "-o", out]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout.trim(), `Wrote trace "newer" (1 event) to "${out}"`);
  assert.deepEqual(checkTraceFileText(await Deno.readTextFile(out)), []);

  const toStdout = await run(["get-tef", join(dir, "older.jsonl"), "-o", "-"]);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  assert.deepEqual(checkTraceFileText(toStdout.stdout), []);
  assert.equal(JSON.parse(toStdout.stdout).length, 2);

  const missing = await run(["get-tef", "nwer", "--dir", dir, "-o", out]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    `wrapp: No trace "nwer" in "${dir}" (did you mean "newer"?): see "wrapp list"`,
  );

  const clear = await run(["clear", "--dir", dir]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.equal(clear.stdout.trim(), `Removed 2 traces from "${dir}"`);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["notes.txt"]);

  const bad = await run(["list", "--dri", dir]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    'wrapp: Unknown option "--dri" for "wrapp list" (did you mean "--dir"?): see "wrapp list --help"',
  );
});

Deno.test("examples/tldrs_client.py records one trace from three processes through wrapp serve", async () => {
  const python = await new Deno.Command("python3", { args: ["--version"] }).output()
    .then((o) => o.success, () => false);
  if (!python) {
    // The example needs python3; say so loudly rather than skip silently.
    throw new Error("python3 is needed to test examples/tldrs_client.py: apt-get install python3");
  }
  await using root = await tempDir();
  await using daemon = await startServe(root.path);
  const client = await new Deno.Command("python3", {
    args: [EXAMPLE_CLIENT, "--children", "2", "--emit", "trace.json"],
    cwd: root.path,
    env: { TRACE_TEF_TLDR_SOCKET: daemon.socket },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const clientErr = decoder.decode(client.stderr);
  assert.equal(client.code, 0, clientErr);
  const traceId = /^trace id: (tr-\d+-[0-9a-f]{32})$/m.exec(clientErr)?.[1];
  assert.ok(traceId, clientErr);
  const target = join(root.path, "trace.json");
  await waitFor(() => exists(target), 10_000, "EMIT_TEF_AT_EXIT trace.json");
  const text = await Deno.readTextFile(target);
  assert.deepEqual(checkTraceFileText(text), []);
  const events: Array<{ ph: string; pid: number; name: string }> = JSON.parse(text);
  assert.equal(new Set(events.map((e) => e.pid)).size, 3);
  assert.deepEqual(
    events.filter((e) => e.ph === "X" && e.name.startsWith("step")).length,
    9,
  );
  const list = await run(["list", "--dir", daemon.dir]);
  assert.match(list.stdout, new RegExp(`^${traceId} +${events.length} `, "m"));
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  assert.ok(
    daemon.stderr().includes(
      `EMIT_TEF_AT_EXIT: wrote trace "${traceId}" (${events.length} events) to "${target}"`,
    ),
  );
});

Deno.test("wrapp serve --redis streams every collected event to logs:app:<trace-id>:trace", async () => {
  await using redis = await startRedis();
  await using root = await tempDir();
  await using daemon = await startServe(root.path, [
    "--redis",
    `redis://127.0.0.1:${redis.port}`,
    "--redis-spool",
    join(root.path, "spool"),
  ]);
  const events = Array.from({ length: 50 }, (_, i) => instant(7, i));
  await send(daemon.socket, `OPEN build-42\n${events.join("\n")}\nnot json\nDIE\n`);
  assert.equal(await daemon.exited, 0, daemon.stderr());
  assert.match(daemon.stderr(), /streaming events to Redis at 127\.0\.0\.1:\d+\n/);
  const entries = await (await redis.client(1)).xrange("logs:app:build-42:trace", "-", "+");
  const messages = entries.map(([, fields]) => fields[fields.indexOf("message") + 1]);
  assert.deepEqual(messages, events, "every valid event, in order, none of the rejected line");
  assert.equal(await lineCount(join(daemon.dir, "build-42.jsonl")), 50);
});
