import assert from "node:assert/strict";
import { findLoader } from "./find_loader.ts";

Deno.test("findLoader() finds the dynamic loader of a process's maps, by dev:inode", () => {
  const maps = [
    "55d0c8a00000-55d0c8a21000 r-xp 00001000 08:01 1234567                    /usr/bin/app",
    "7f0000000000-7f0000001000 r--p 00000000 00:00 0 ",
    "7f9920b60000-7f9920b61000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "7f9920b61000-7f9920b87000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
  ].join("\n");
  assert.deepEqual(findLoader(maps), {
    path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    key: "fe:00:338944",
  });
  const line = (path: string) => `7f00-7f01 r-xp 00000000 08:02 42    ${path}\n`;
  assert.equal(
    findLoader(line("/lib/aarch64-linux-gnu/ld-2.31.so"))?.path,
    "/lib/aarch64-linux-gnu/ld-2.31.so",
  );
  assert.equal(findLoader(line("/lib/ld-musl-aarch64.so.1"))?.path, "/lib/ld-musl-aarch64.so.1");
  assert.equal(findLoader(line("/usr/lib/libldap.so.2")), undefined);
  assert.equal(findLoader(line("/usr/bin/ld.gold")), undefined);
  assert.equal(findLoader(maps.split("\n").slice(0, 2).join("\n")), undefined, "a static program");
});
