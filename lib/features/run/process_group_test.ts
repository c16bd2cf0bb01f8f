import assert from "node:assert/strict";
import { parseStatGroup, processGroupMembers } from "./process_group.ts";

Deno.test("parseStatGroup() reads the state and group, also after a comm with ') ' in it", () => {
  assert.deepEqual(parseStatGroup("4242 (sleep) S 1 4200 4200 0 -1 4194304"), {
    state: "S",
    pgrp: 4200,
  });
  assert.deepEqual(parseStatGroup("7 (a) b (c) Z 1 7 7 0"), { state: "Z", pgrp: 7 });
  assert.equal(parseStatGroup("garbage"), undefined);
});

Deno.test("processGroupMembers() lists a group's live processes and nothing once they end", async () => {
  // A new group: a shell and one background sleep, both in the shell's group.
  const child = new Deno.Command("bash", {
    args: ["-c", "sleep 30 & wait"],
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let members: number[] = [];
    const deadline = Date.now() + 5000;
    while (members.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      members = await processGroupMembers(child.pid);
    }
    assert.equal(members.length, 2, `members ${members}`);
    assert.ok(members.includes(child.pid));
  } finally {
    Deno.kill(-child.pid, "SIGKILL");
    await child.status;
  }
  const deadline = Date.now() + 5000;
  while ((await processGroupMembers(child.pid)).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(await processGroupMembers(child.pid), []);
});
