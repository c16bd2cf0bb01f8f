import assert from "node:assert/strict";
import { fileOffset, findMapping, parseProcMaps, readProcMaps } from "./proc_maps.ts";

const SAMPLE =
  `55d0c8a00000-55d0c8a01000 r--p 00000000 08:01 1234567                    /usr/bin/app
55d0c8a01000-55d0c8a21000 r-xp 00001000 08:01 1234567                    /usr/bin/app
55d0c9000000-55d0c9021000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0 
7f1000028000-7f10001bd000 r-xp 00028000 08:01 42                         /usr/lib/x86_64-linux-gnu/libc.so.6
7f2000000000-7f2000001000 r-xp 00000000 08:01 77                         /tmp/my lib.so (deleted)
7ffd5a1f0000-7ffd5a1f2000 r-xp 00000000 00:00 0                          [vdso]
`;

Deno.test("parseProcMaps() reads ranges, offsets, inodes and paths with spaces", () => {
  const maps = parseProcMaps(SAMPLE);
  assert.equal(maps.length, 7);
  assert.deepEqual(maps[1], {
    start: 0x55d0c8a01000,
    end: 0x55d0c8a21000,
    perms: "r-xp",
    offset: 0x1000,
    dev: "08:01",
    inode: 1234567,
    path: "/usr/bin/app",
    deleted: false,
  });
  assert.equal(maps[3].path, "");
  assert.equal(maps[5].path, "/tmp/my lib.so");
  assert.equal(maps[5].deleted, true);
  assert.equal(maps[6].path, "[vdso]");
});

Deno.test("findMapping() finds the range holding an address and nothing outside", () => {
  const maps = parseProcMaps(SAMPLE);
  assert.equal(findMapping(maps, 0x55d0c8a01234)?.path, "/usr/bin/app");
  assert.equal(findMapping(maps, 0x7f1000028000)?.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  assert.equal(findMapping(maps, 0x7f10001bd000), undefined); // end is exclusive
  assert.equal(findMapping(maps, 0xa64), undefined);
  assert.equal(findMapping([], 1), undefined);
});

Deno.test("fileOffset() adds the mapping's file offset", () => {
  const maps = parseProcMaps(SAMPLE);
  assert.equal(fileOffset(maps[1], 0x55d0c8a01234), 0x1234);
  assert.equal(fileOffset(maps[4], 0x7f1000029000), 0x29000);
});

Deno.test("readProcMaps() reads this process and names a missing one", async () => {
  const maps = await readProcMaps(Deno.pid);
  assert.ok(maps.some((m) => m.perms.includes("x")));
  await assert.rejects(
    () => readProcMaps(999_999_999),
    { message: "Cannot attach to pid 999999999: no such process" },
  );
});
