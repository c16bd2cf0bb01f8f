import assert from "node:assert/strict";
import { LoaderHooks } from "./loader_hooks.ts";

const loader = { path: "/lib/ld-linux.so.2", key: "fe:00:338944" };

Deno.test("LoaderHooks attaches a loader once for all its processes", async () => {
  const attached: string[] = [];
  const hooks = new LoaderHooks((path) => {
    attached.push(path);
    return Promise.resolve();
  });
  assert.equal(hooks.get(loader.key), undefined);
  assert.equal(await hooks.hook(loader, "/proc/12/root/lib/ld-linux.so.2"), true);
  assert.equal(await hooks.hook(loader, "/proc/13/root/lib/ld-linux.so.2"), true);
  assert.deepEqual(attached, ["/proc/12/root/lib/ld-linux.so.2"]);
  assert.equal(await hooks.get(loader.key), true);
});

Deno.test("LoaderHooks: a loader that cannot be hooked, or no engine to hook it, sends no records", async () => {
  const logged: string[] = [];
  const failing = new LoaderHooks(
    () => Promise.reject(new Error('"/lib/ld-linux.so.2" has no function _dl_debug_state')),
    (message) => logged.push(message),
  );
  assert.equal(await failing.hook(loader, "/lib/ld-linux.so.2"), false);
  assert.equal(await failing.get(loader.key), false);
  assert.match(
    logged.join("\n"),
    /cannot hook the dynamic loader .*has no function _dl_debug_state/,
  );
  const none = new LoaderHooks(() => undefined);
  assert.equal(await none.hook(loader, "/lib/ld-linux.so.2"), false);
});

Deno.test("LoaderHooks.markHooked(): the loader sends records without attaching anything", async () => {
  const hooks = new LoaderHooks(() => {
    throw new Error("attach called");
  });
  hooks.markHooked(loader.key);
  assert.equal(await hooks.get(loader.key), true);
  assert.equal(await hooks.hook(loader, "/lib/ld-linux.so.2"), true);
});
