import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import { writeAll } from "../pipeline/tef/assemble_trace.ts";
import { checkTraceFileText } from "../pipeline/tef/perfetto_rules.ts";
import type { CollectorServer } from "../features/collector/collector_socket.ts";
import {
  CLEAR_HELP,
  clearCommand,
  type CollectorCommandContext,
  formatBytes,
  formatTraceTable,
  GET_TEF_HELP,
  getTefCommand,
  LIST_HELP,
  listCommand,
  SERVE_HELP,
  serveCommand,
} from "./serve_command.ts";

interface Captured extends CollectorCommandContext {
  out: string[];
  logs: string[];
}

function context(env: Record<string, string> = {}): Captured {
  const out: string[] = [];
  const logs: string[] = [];
  return {
    out,
    logs,
    print: (text) => out.push(text),
    debug: () => {},
    log: (message) => logs.push(message),
    env: (name) => env[name],
  };
}

async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "wrapp-serve-cmd-test-" });
  try {
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function usageError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  throw new Error("expected a UsageError");
}

Deno.test("the help texts teach flags, defaults and examples", async () => {
  for (
    const [command, help, words] of [
      [serveCommand, SERVE_HELP, [
        "--socket",
        "--dir",
        "--max-line-bytes",
        "tldrs.socket",
        "EMIT_TEF_AT_EXIT",
        "DIE_WHEN_IDLE",
        "Examples:",
      ]],
      [listCommand, LIST_HELP, ["--dir", "XDG_DATA_HOME", "Example:"]],
      [getTefCommand, GET_TEF_HELP, ["latest", "-o, --out", '"-" for stdout', "Examples:"]],
      [clearCommand, CLEAR_HELP, ["*.jsonl", "without", "Example:"]],
    ] as const
  ) {
    const ctx = context();
    assert.equal(await command(["--help"], ctx), 0);
    assert.deepEqual(ctx.out, [help]);
    for (const word of words) assert.ok(help.includes(word), `${word} in ${help.slice(0, 30)}`);
    for (const line of help.split("\n")) assert.ok(line.length <= 92, `too long: ${line}`);
  }
});

Deno.test("bad flags are usage errors that say what to do", async () => {
  assert.equal(
    await usageError(serveCommand(["--sokcet", "x"], context())),
    'Unknown option "--sokcet" for "wrapp serve" (did you mean "--socket"?): see "wrapp serve --help"',
  );
  assert.equal(
    await usageError(listCommand(["--dir"], context())),
    'Option "--dir" of "wrapp list" needs a value',
  );
  assert.equal(
    await usageError(serveCommand(["--max-line-bytes", "10"], context())),
    'Invalid value for "--max-line-bytes": expected an integer between 256 and 67108864, got "10"',
  );
  assert.equal(
    await usageError(clearCommand(["now"], context())),
    'Too many arguments for "wrapp clear": "now"',
  );
  assert.equal(
    await usageError(getTefCommand([], context())),
    'Missing trace: usage "wrapp get-tef <trace-id | path | latest> [-o FILE]"',
  );
  assert.equal(
    await usageError(listCommand(["--dir="], context())),
    'Option "--dir" needs a non-empty value',
  );
});

Deno.test("serveCommand() listens on $TMPDIR/tldrs.socket, writes $XDG_DATA_HOME/tldrs, stops on abort", async () => {
  await withRoot(async (root) => {
    const ctx = context({ TMPDIR: root, XDG_DATA_HOME: join(root, "data"), HOME: "/nonexistent" });
    const abort = new AbortController();
    let server: CollectorServer | undefined;
    const done = serveCommand([], {
      ...ctx,
      signal: abort.signal,
      onListening: (s) => server = s,
    });
    while (server === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const socket = join(root, "tldrs.socket");
    assert.equal(server.socketPath, socket);
    const conn = await Deno.connect({ transport: "unix", path: socket });
    await writeAll(
      conn as unknown as Deno.FsFile,
      new TextEncoder().encode('OPEN t\n{"ph":"i","name":"a","ts":1,"pid":1,"tid":1}\n'),
    );
    conn.close();
    while (server.stats().written < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    assert.equal(await done, 0);
    assert.equal(
      await Deno.readTextFile(join(root, "data", "tldrs", "t.jsonl")),
      '{"ph":"i","name":"a","ts":1,"pid":1,"tid":1}\n',
    );
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound);
    assert.equal(
      ctx.logs[0],
      `wrapp serve: listening on "${socket}", writing traces to "${join(root, "data", "tldrs")}"`,
    );
    assert.equal(
      ctx.logs.at(-1),
      "wrapp serve: stopped (abort): 1 connection, 1 event written, 0 lines rejected",
    );
  });
});

Deno.test("listCommand(), getTefCommand() and clearCommand() work on the trace folder", async () => {
  await withRoot(async (root) => {
    const dir = join(root, "traces");
    await Deno.mkdir(dir);
    const event = (name: string) =>
      JSON.stringify({ ph: "i", name, ts: 1, pid: 1, tid: 1, s: "t" });
    await Deno.writeTextFile(join(dir, "old.jsonl"), `${event("a")}\n${event("b")}\n`);
    await Deno.utime(join(dir, "old.jsonl"), 1000, 1000);
    await Deno.writeTextFile(join(dir, "new.jsonl"), `${event("c")}\nnot json\n`);

    const listed = context();
    assert.equal(await listCommand(["--dir", dir], listed), 0);
    const [table, total] = listed.out;
    const rows = table.split("\n");
    assert.match(rows[0], /^TRACE ID {2}EVENTS {2} SIZE {2}MODIFIED$/);
    assert.match(rows[1], /^old +2 {2}\d+ B {2}19[67]\d-\d\d-\d\d \d\d:\d6:40$/);
    assert.match(rows[2], /^new +2 +\d+ B {2}\d{4}-/);
    assert.equal(total, `2 traces in "${dir}"`);

    const got = context();
    const out = join(root, "latest.json");
    assert.equal(await getTefCommand(["latest", "--dir", dir, "-o", out], got), 0);
    assert.deepEqual(got.out, [
      `Wrote trace "new" (1 event, 1 unreadable lines skipped) to "${out}"`,
    ]);
    assert.deepEqual(checkTraceFileText(await Deno.readTextFile(out)), []);

    const byId = context();
    assert.equal(await getTefCommand(["old", "-d", dir, "--out", out], byId), 0);
    assert.equal(JSON.parse(await Deno.readTextFile(out)).length, 2);

    const cleared = context();
    assert.equal(await clearCommand(["--dir", dir], cleared), 0);
    assert.deepEqual(cleared.out, [`Removed 2 traces from "${dir}"`]);
    const empty = context();
    await listCommand(["--dir", dir], empty);
    assert.deepEqual(empty.out, [`No traces in "${dir}"`]);
  });
});

Deno.test("listCommand() and clearCommand() default to ~/.local/share/tldrs", async () => {
  await withRoot(async (root) => {
    const ctx = context({ HOME: root });
    await listCommand([], ctx);
    await clearCommand([], ctx);
    const dir = join(root, ".local", "share", "tldrs");
    assert.deepEqual(ctx.out, [`No traces in "${dir}"`, `Removed 0 traces from "${dir}"`]);
  });
});

Deno.test("formatBytes() and formatTraceTable() align numbers right", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 * 1024), "3.0 MiB");
  assert.equal(formatBytes(5 * 1024 ** 4), "5.0 TiB");
  const modified = new Date(2024, 5, 10, 12, 0, 1);
  assert.equal(
    formatTraceTable([
      { id: "a-long-trace-id", path: "/x", bytes: 1536, events: 12345, modified },
      { id: "b", path: "/y", bytes: 7, events: 1, modified },
    ]),
    [
      "TRACE ID         EVENTS     SIZE  MODIFIED",
      "a-long-trace-id   12345  1.5 KiB  2024-06-10 12:00:01",
      "b                     1      7 B  2024-06-10 12:00:01",
    ].join("\n"),
  );
});
