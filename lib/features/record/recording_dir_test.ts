import assert from "node:assert/strict";
import { createRecordingDir, recordingName, sudoUser } from "./recording_dir.ts";

Deno.test("recordingName() is <app>_<UTC timestamp>", () => {
  assert.equal(
    recordingName("redis", new Date(Date.UTC(2026, 10, 25, 14, 10, 40))),
    "redis_20261125-141040",
  );
});

Deno.test("createRecordingDir() makes a new folder each time and points latest at it", async () => {
  const root = await Deno.makeTempDir({ prefix: "wrapp-rec-" });
  try {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const first = await createRecordingDir(`${root}/traces`, "nginx", date);
    assert.equal(first.name, "nginx_20260102-030405");
    assert.equal(first.dir, `${root}/traces/nginx_20260102-030405`);
    assert.equal(await Deno.readLink(`${root}/traces/latest`), "nginx_20260102-030405");
    const second = await createRecordingDir(`${root}/traces`, "nginx", date);
    assert.equal(second.name, "nginx_20260102-030405-2");
    assert.equal(await Deno.readLink(`${root}/traces/latest`), second.name);
    assert.ok((await Deno.stat(first.dir)).isDirectory, "earlier recordings are kept");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("sudoUser() is the user who ran sudo, only when wrapp is root", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.deepEqual(sudoUser(env({ SUDO_UID: "1000", SUDO_GID: "1001" }), 0), {
    uid: 1000,
    gid: 1001,
  });
  assert.equal(sudoUser(env({ SUDO_UID: "1000", SUDO_GID: "1001" }), 1000), undefined);
  assert.equal(sudoUser(env({}), 0), undefined);
  assert.equal(sudoUser(env({ SUDO_UID: "0", SUDO_GID: "0" }), 0), undefined);
  assert.equal(sudoUser(env({ SUDO_UID: "", SUDO_GID: "" }), 0), undefined);
});
