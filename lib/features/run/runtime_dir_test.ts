import assert from "node:assert/strict";
import { runtimeDir, socketPid, statusSocketPath } from "./runtime_dir.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const none = () => false;

Deno.test("runtimeDir() is WRAPP_RUNTIME_DIR when set, for root too", () => {
  assert.equal(
    runtimeDir({ env: env({ WRAPP_RUNTIME_DIR: "/tmp/x/run" }), uid: 0, isDirectory: none }),
    "/tmp/x/run",
  );
});

Deno.test("runtimeDir() is /run/wrapp for root", () => {
  const vars = env({ XDG_RUNTIME_DIR: "/run/user/0" });
  assert.equal(runtimeDir({ env: vars, uid: 0, isDirectory: none }), "/run/wrapp");
});

Deno.test("runtimeDir() is $XDG_RUNTIME_DIR/wrapp for a user, else /run/user/<uid>/wrapp, else /tmp/wrapp-<uid>", () => {
  assert.equal(
    runtimeDir({ env: env({ XDG_RUNTIME_DIR: "/run/user/1000" }), uid: 1000, isDirectory: none }),
    "/run/user/1000/wrapp",
  );
  // A relative XDG_RUNTIME_DIR is ignored, as the XDG specification asks.
  const relative = env({ XDG_RUNTIME_DIR: "run" });
  const userDir = (path: string) => path === "/run/user/1001";
  assert.equal(
    runtimeDir({ env: relative, uid: 1001, isDirectory: userDir }),
    "/run/user/1001/wrapp",
  );
  assert.equal(runtimeDir({ env: env({}), uid: 1002, isDirectory: none }), "/tmp/wrapp-1002");
});

Deno.test("statusSocketPath() and socketPid() agree on <pid>.sock", () => {
  assert.equal(statusSocketPath("/run/wrapp", 4242), "/run/wrapp/4242.sock");
  assert.equal(socketPid("4242.sock"), 4242);
  for (const name of ["0.sock", "x.sock", "4242.sock.tmp", ".4242.sock", "4242"]) {
    assert.equal(socketPid(name), undefined, name);
  }
});
