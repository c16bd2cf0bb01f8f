// findSystemdCore(), through findCore() with systemd-coredump's core_pattern.
import assert from "node:assert/strict";
import { findCore } from "./find_core.ts";
import { parseCoredumpList } from "./find_systemd_core.ts";
import { crashed, quick, tempDir } from "./_find_core_test_helpers.ts";

/** A fake coredumpctl: `list` fails `failures` times, then prints `row`; `dump -o F` writes F. */
async function fakeCoredumpctl(dir: string, row: Record<string, unknown>, failures = 0) {
  const path = `${dir}/coredumpctl`;
  await Deno.writeTextFile(
    path,
    `#!/bin/bash
echo "$*" >> ${dir}/calls
n=$(cat ${dir}/count 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/count
for a in "$@"; do case "$a" in list) verb=list;; dump) verb=dump;; esac; done
if [ "$verb" = list ]; then
  if [ "$n" -lt ${failures} ]; then echo "No coredumps found." >&2; exit 1; fi
  echo '[${JSON.stringify(row)}]'
  exit 0
fi
while [ $# -gt 0 ]; do if [ "$1" = -o ]; then head -c 5000 /dev/zero > "$2"; fi; shift; done
`,
    { mode: 0o755 },
  );
  return path;
}

Deno.test("findCore() extracts a core from systemd-coredump once it is recorded", async () => {
  await using dir = await tempDir();
  const coredumpctl = await fakeCoredumpctl(dir.path, {
    time: Date.now() * 1000,
    pid: 4242,
    uid: 0,
    gid: 0,
    sig: 11,
    corefile: "present",
    exe: "/usr/bin/svc",
    size: 5000,
  }, 2);
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl,
    extractDir: dir.path,
    settings: {
      pattern: "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
      usesPid: false,
    },
  });
  assert.ok(lookup.found, !lookup.found ? lookup.reason : "");
  assert.equal(lookup.via, "systemd-coredump");
  assert.equal(lookup.path, `${dir.path}/core.svc.4242`);
  assert.equal(lookup.size, 5000);
  assert.equal(lookup.description, "systemd-coredump (coredumpctl dump 4242)");
  const calls = (await Deno.readTextFile(`${dir.path}/calls`)).trim().split("\n");
  assert.equal(calls.length, 4, "three lists, then a dump");
  assert.match(calls[0], /^--no-pager --json=short --since=@\d+ list 4242$/);
  assert.match(calls[3], /-o .*core\.svc\.4242 dump 4242$/);
});

Deno.test("findCore() says when systemd-coredump kept no core", async () => {
  await using dir = await tempDir();
  const coredumpctl = await fakeCoredumpctl(dir.path, {
    time: Date.now() * 1000,
    pid: 4242,
    corefile: "none",
  });
  const lookup = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl,
    settings: { pattern: "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", usesPid: false },
  });
  assert.match(
    !lookup.found ? lookup.reason : "",
    /^no core: systemd-coredump recorded the crash of pid 4242 but kept no core \(corefile "none"/,
  );
  const missing = await findCore(crashed(dir.path), {
    ...quick,
    coredumpctl: `${dir.path}/not-installed`,
    settings: { pattern: "|/lib/systemd/systemd-coredump %P", usesPid: false },
  });
  assert.match(!missing.found ? missing.reason : "", /is not installed/);
});

Deno.test("parseCoredumpList() reads a JSON array and one object per line", () => {
  const row = { time: 1, pid: 5, corefile: "present" };
  assert.deepEqual(parseCoredumpList(JSON.stringify([row, { pid: "x" }])), [row]);
  assert.deepEqual(parseCoredumpList(`${JSON.stringify(row)}\n${JSON.stringify(row)},\n`), [
    row,
    row,
  ]);
  assert.deepEqual(parseCoredumpList(""), []);
});
