import assert from "node:assert/strict";
import * as node from "node:path";
import { fileURLToPath } from "node:url";
import {
  basename,
  dirname,
  fileUrlToPath,
  isAbsolute,
  join,
  normalize,
  resolve,
} from "./posix_path.ts";

const _PATHS = [
  "",
  ".",
  "./",
  "..",
  "../",
  "/",
  "//",
  "///a//b",
  "a",
  "a/",
  "a//",
  "/a",
  "/a/",
  "/a/b",
  "/a/b/",
  "a/b/../c",
  "a/../..",
  "a/../../b/",
  "/../a",
  "/a/./b/.",
  "./a/./",
  "../../x/y/..",
  "/etc/wrapp/robot.toml",
  "svc.toml",
  "dir/.hidden",
  "a b/c d",
];

Deno.test("normalize, dirname, basename and isAbsolute answer as node:path's posix functions", () => {
  for (const path of _PATHS) {
    assert.equal(normalize(path), node.posix.normalize(path), `normalize(${JSON.stringify(path)})`);
    assert.equal(dirname(path), node.posix.dirname(path), `dirname(${JSON.stringify(path)})`);
    assert.equal(basename(path), node.posix.basename(path), `basename(${JSON.stringify(path)})`);
    assert.equal(
      isAbsolute(path),
      node.posix.isAbsolute(path),
      `isAbsolute(${JSON.stringify(path)})`,
    );
  }
});

Deno.test("join and resolve answer as node:path's posix functions", () => {
  for (const a of _PATHS) {
    for (const b of ["", "b", "/b", "b/", "../b", "./b/./c"]) {
      assert.equal(
        join(a, b),
        node.posix.join(a, b),
        `join(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
      );
      assert.equal(
        resolve(a, b),
        node.posix.resolve(a, b),
        `resolve(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
      );
    }
  }
  assert.equal(join(), node.posix.join());
  assert.equal(resolve(), node.posix.resolve());
  assert.equal(join("/var/lib", "wrapp", "spool", "robot"), "/var/lib/wrapp/spool/robot");
});

Deno.test("fileUrlToPath decodes a file: URL like node:url, and refuses another scheme", () => {
  for (
    const url of ["file:///work/wt/main.ts", "file:///a%20b/c%C3%A9.ts", new URL("file:///x/y")]
  ) {
    assert.equal(fileUrlToPath(url), fileURLToPath(url));
  }
  assert.throws(() => fileUrlToPath("https://example.com/main.ts"), TypeError);
});
