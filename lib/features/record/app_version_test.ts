import assert from "node:assert/strict";
import { parseVersion, programVersion } from "./app_version.ts";

Deno.test("parseVersion() finds the version in what servers print", () => {
  assert.equal(
    parseVersion(
      "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0",
    ),
    "7.0.15",
  );
  assert.equal(parseVersion("nginx version: nginx/1.22.1\n"), "1.22.1");
  assert.equal(
    parseVersion("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
    "15.18 (Debian 15.18-0+deb12u1)",
  );
  assert.equal(parseVersion("bpftrace v0.17.0"), "0.17.0");
  assert.equal(parseVersion("wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer"), "4.1.0");
  assert.equal(parseVersion("no version here"), undefined);
});

Deno.test("programVersion() runs the program, undefined when it cannot", async () => {
  assert.equal(await programVersion("sh", ["-c", "echo 'tool version 1.2.3' >&2"]), "1.2.3");
  assert.equal(await programVersion("/nonexistent/wrapp-program"), undefined);
});
