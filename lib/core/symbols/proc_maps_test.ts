import assert from "node:assert/strict";
import { fileOffset, findMapping, parseProcMaps, readLiveMaps, readProcMaps } from "./proc_maps.ts";

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

/** A fake proc holding pid 42 with `maps` and a stat line of `name` with `flags`. */
async function fakeProc(maps: string, name: string, flags: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  await Deno.mkdir(`${dir}/42`);
  await Deno.writeTextFile(`${dir}/42/maps`, maps);
  // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt…
  await Deno.writeTextFile(`${dir}/42/stat`, `42 (${name}) R 1 42 42 0 -1 ${flags} 120 0\n`);
  return dir;
}

Deno.test("readLiveMaps() reads the maps of a live process", async () => {
  const text = await readLiveMaps(Deno.pid);
  assert.ok(parseProcMaps(text).some((m) => m.path === "[stack]"), text);
  const dir = await fakeProc(SAMPLE, "svc", 0x400100);
  assert.equal(await readLiveMaps(42, dir), SAMPLE);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readLiveMaps() refuses the maps of a process that is exiting (PF_EXITING)", async () => {
  const dir = await fakeProc(SAMPLE.split("\n")[0] + "\n", "svc", 0x400104);
  await assert.rejects(
    () => readLiveMaps(42, dir),
    /pid 42 is exiting: its maps may be incomplete/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readLiveMaps() finds the flags after a name holding spaces and parentheses", async () => {
  const live = await fakeProc(SAMPLE, "a) R 1 2 3 4 5 4 (b", 0x400000);
  assert.equal(await readLiveMaps(42, live), SAMPLE);
  const exiting = await fakeProc(SAMPLE, "x) R 1 2 3 4 5 0 (y", 0x4);
  await assert.rejects(() => readLiveMaps(42, exiting), /is exiting/);
  await Promise.all([live, exiting].map((dir) => Deno.remove(dir, { recursive: true })));
});

Deno.test("readLiveMaps() refuses empty maps (a zombie) and a process that is gone", async () => {
  const dir = await fakeProc("", "svc", 0);
  await assert.rejects(() => readLiveMaps(42, dir), /pid 42 has no mappings/);
  await assert.rejects(() => readLiveMaps(43, dir), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
