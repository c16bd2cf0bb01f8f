import assert from "node:assert/strict";
import { loadConfig } from "../../core/config/load_config.ts";
import { neededChecks } from "./needed_checks.ts";

Deno.test("neededChecks(): everything without a config; with one, what it uses", async () => {
  assert.equal(neededChecks(undefined)("bpftrace"), true);
  const dir = await Deno.makeTempDir();
  try {
    const plain = `${dir}/plain.toml`;
    await Deno.writeTextFile(plain, `[app]\nexecutable = "/bin/true"\n`);
    const needs = neededChecks(await loadConfig(plain));
    for (
      const check of ["root", "kernel", "bpftrace", "tracefs", "tracepoints", "setpriv", "redis"]
    ) {
      assert.equal(needs(check), false, check);
    }
    for (const check of ["gdb", "core dumps", "disk"]) assert.equal(needs(check), true, check);
    const traced = `${dir}/traced.toml`;
    await Deno.writeTextFile(
      traced,
      `[app]\nexecutable = "/bin/true"\nuser = "root"\n[trace]\n[redis]\n[crash]\ncore_dumps = true\n`,
    );
    const all = neededChecks(await loadConfig(traced));
    for (const check of ["root", "kernel", "bpftrace", "tracefs", "setpriv", "prlimit", "redis"]) {
      assert.equal(all(check), true, check);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("neededChecks(): gdbserver counts only for a config with [debug] enabled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plain = `${dir}/plain.toml`;
    await Deno.writeTextFile(plain, `[app]\nexecutable = "/bin/true"\n[debug]\nenabled = false\n`);
    assert.equal(neededChecks(await loadConfig(plain))("gdbserver"), false);
    const debugged = `${dir}/debugged.toml`;
    await Deno.writeTextFile(
      debugged,
      `[app]\nexecutable = "/bin/true"\n[debug]\nenabled = true\n`,
    );
    assert.equal(neededChecks(await loadConfig(debugged))("gdbserver"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("neededChecks(): [watchdog] needs gdb even with [crash] off", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/watched.toml`;
    await Deno.writeTextFile(
      path,
      `[app]\nexecutable = "/bin/true"\n[crash]\nenabled = false\n[watchdog]\ntimeout = "30s"\nsocket = "${dir}/n.sock"\n`,
    );
    assert.equal(neededChecks(await loadConfig(path))("gdb"), true);
    await Deno.writeTextFile(path, `[app]\nexecutable = "/bin/true"\n[crash]\nenabled = false\n`);
    assert.equal(neededChecks(await loadConfig(path))("gdb"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
