import assert from "node:assert/strict";
import { configErrorFrom, fakeEnv, offline } from "./_test_helpers.ts";
import { parseConfig } from "./load_config.ts";

Deno.test("parseConfig() reads [watchdog], with its notify socket under the runtime folder", () => {
  const config = parseConfig(
    `[app]\nexecutable = "/bin/true"\nstream_name = "arm"\n[watchdog]\ntimeout = "30s"\nsilence = "2m"\n`,
    {
      ...offline("svc.toml"),
      env: fakeEnv({ HOME: "/home/ada", XDG_RUNTIME_DIR: "/run/user/1000" }),
    },
  );
  assert.deepEqual(config.watchdog, {
    enabled: true,
    timeoutMs: 30_000,
    silenceMs: 120_000,
    socket: "/run/user/1000/wrapp/arm/notify.sock",
  });
  const root = parseConfig(`[app]\nexecutable = "/bin/true"\n[watchdog]\n`, {
    ...offline("svc.toml"),
    uid: 0,
  });
  assert.deepEqual(root.watchdog, { enabled: true, socket: "/run/wrapp/true/notify.sock" });
  const off = parseConfig(`[app]\nexecutable = "/bin/true"\n[watchdog]\nenabled = false\n`, {
    ...offline("svc.toml"),
  });
  assert.equal(off.watchdog, undefined);
  assert.equal(
    parseConfig(`[app]\nexecutable = "/bin/true"\n`, offline("svc.toml")).watchdog,
    undefined,
  );
});

Deno.test("parseConfig() reads [watchdog] of a JSON config too, its socket relative to the file", () => {
  const config = parseConfig(
    `{"app": {"executable": "/bin/true"}, "watchdog": {"timeout": 2.5, "socket": "run/n.sock"}}`,
    offline("svc.json"),
  );
  assert.deepEqual(config.watchdog, {
    enabled: true,
    timeoutMs: 2500,
    socket: "/srv/robot/run/n.sock",
  });
});

Deno.test("parseConfig() refuses a [watchdog] socket path too long for a unix socket", () => {
  const message = configErrorFrom(
    `[app]\nexecutable = "/bin/true"\n[watchdog]\nsocket = "/${"s".repeat(120)}"\n`,
    offline("svc.toml"),
  );
  assert.match(
    message,
    /^Invalid config "svc\.toml" at line 4, column 1: the notify socket "\/s+\.\.\." is 121 bytes long, more than the 107 a unix socket's path may have; set a shorter "socket" in \[watchdog\]$/,
  );
  assert.match(
    configErrorFrom(
      `[app]\nexecutable = "/bin/true"\n[watchdog]\ntimeout = "0s"\n`,
      offline("svc.toml"),
    ),
    /"timeout" in \[watchdog\] must be a positive duration/,
  );
});
