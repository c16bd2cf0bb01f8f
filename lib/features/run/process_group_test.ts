import assert from "node:assert/strict";
import { groupIsGone, parseStatGroup, processGroupMembers } from "./process_group.ts";

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

Deno.test("groupIsGone() is false while a zombie is left in the group, and processGroupMembers() leaves it out", async () => {
  // `sleep 0` ends at once; its parent becomes `sleep 30`, which never reaps it.
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 0 & exec sleep 30"],
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const zombieOf = () => {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name) || Number(entry.name) === child.pid) continue;
      try {
        const stat = parseStatGroup(Deno.readTextFileSync(`/proc/${entry.name}/stat`));
        if (stat?.pgrp === child.pid && stat.state === "Z") return Number(entry.name);
      } catch { /* ended */ }
    }
    return undefined;
  };
  try {
    const deadline = Date.now() + 5000;
    while (zombieOf() === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(zombieOf() !== undefined, "no zombie in the group");
    assert.equal(groupIsGone(child.pid), false);
    assert.deepEqual(await processGroupMembers(child.pid), [child.pid]);
  } finally {
    Deno.kill(-child.pid, "SIGKILL");
    await child.status;
  }
  const deadline = Date.now() + 5000;
  while (!groupIsGone(child.pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(groupIsGone(child.pid), true);
  assert.deepEqual(await processGroupMembers(child.pid), []);
});
