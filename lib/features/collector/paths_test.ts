import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { defaultSocketPath, defaultTraceDir } from "./paths.ts";

function env(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => vars[name];
}

Deno.test("defaultSocketPath() prefers TRACE_TEF_TLDR_SOCKET, then $TMPDIR, then /tmp", () => {
  assert.equal(
    defaultSocketPath(env({ TRACE_TEF_TLDR_SOCKET: "/run/t.sock", TMPDIR: "/x" })),
    "/run/t.sock",
  );
  assert.equal(defaultSocketPath(env({ TMPDIR: "/var/tmp/" })), "/var/tmp/tldrs.socket");
  assert.equal(defaultSocketPath(env({ TMPDIR: "" })), "/tmp/tldrs.socket");
  assert.equal(defaultSocketPath(env({})), "/tmp/tldrs.socket");
});

Deno.test("defaultTraceDir() uses $XDG_DATA_HOME/tldrs, else ~/.local/share/tldrs", () => {
  assert.equal(defaultTraceDir(env({ XDG_DATA_HOME: "/d", HOME: "/h" })), "/d/tldrs");
  assert.equal(defaultTraceDir(env({ HOME: "/home/ann" })), "/home/ann/.local/share/tldrs");
  // A relative XDG_DATA_HOME is invalid per the XDG spec and ignored.
  assert.equal(defaultTraceDir(env({ XDG_DATA_HOME: "rel", HOME: "/h" })), "/h/.local/share/tldrs");
  assert.throws(() => defaultTraceDir(env({})), UsageError);
});
