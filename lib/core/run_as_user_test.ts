import assert from "node:assert/strict";
import { findEntry, lookupGroupId, lookupUser, planUserSwitch } from "./run_as_user.ts";
import { PrivilegeError } from "./errors.ts";

Deno.test("findEntry() finds a name, or an id when the key is all digits, and skips comments", () => {
  const text =
    "# local users\n\nroot:x:0:0:root:/root:/bin/bash\n42:x:1042:1042::/home/x:/bin/sh\n";
  assert.deepEqual(findEntry(text, "root"), ["root", "x", "0", "0", "root", "/root", "/bin/bash"]);
  assert.equal(findEntry(text, "0")?.[0], "root");
  assert.equal(findEntry(text, "1042")?.[0], "42", "digits are an id, as getent reads them");
  assert.equal(findEntry(text, "42"), undefined);
  assert.equal(findEntry(text, "# local users"), undefined);
  assert.equal(findEntry(text, "nobody"), undefined);
});

/** What `getent DATABASE KEY` prints, split at its colons. */
async function getent(database: string, key: string): Promise<string[] | undefined> {
  const output = await new Deno.Command("getent", { args: [database, key], stdout: "piped" })
    .output();
  const line = new TextDecoder().decode(output.stdout).split("\n")[0];
  return output.success && line ? line.split(":") : undefined;
}

Deno.test("lookupUser() and lookupGroupId() answer as getent does, by name and by id", async () => {
  for (const key of ["root", "nobody", "0", "65534"]) {
    const fields = (await getent("passwd", key))!;
    const user = await lookupUser(key);
    assert.deepEqual(
      user && [user.name, String(user.uid), String(user.gid), user.home, user.shell],
      [fields[0], fields[2], fields[3], fields[5], fields[6]],
      `passwd ${key}`,
    );
  }
  for (const key of ["root", "nogroup", "0"]) {
    assert.equal(
      await lookupGroupId(key),
      Number((await getent("group", key))![2]),
      `group ${key}`,
    );
  }
  assert.equal(await lookupUser("no-such-user-wrapp"), undefined);
  assert.equal(await lookupGroupId("no-such-group-wrapp"), undefined);
});

Deno.test("planUserSwitch() needs no switch without [app] user or group", async () => {
  assert.equal(await planUserSwitch({}), undefined);
});

Deno.test("planUserSwitch() refuses another user when wrapp is not root, before anything starts", async () => {
  const nobody = await lookupUser("nobody");
  assert.ok(nobody, "the nobody user exists on Debian");
  await assert.rejects(
    planUserSwitch({ user: "root" }, { uid: nobody.uid }),
    (error: unknown) => {
      assert.ok(error instanceof PrivilegeError);
      assert.equal(error.exitCode, 77);
      assert.equal(
        error.message,
        'Cannot run the service as user "root": switching users needs root, and wrapp runs as "nobody"',
      );
      return true;
    },
  );
});

Deno.test("planUserSwitch() accepts the user wrapp already runs as, without root", async () => {
  const nobody = (await lookupUser("nobody"))!;
  assert.equal(await planUserSwitch({ user: "nobody" }, { uid: nobody.uid }), undefined);
});

Deno.test("planUserSwitch() reports an unknown user or group", async () => {
  await assert.rejects(
    planUserSwitch({ user: "no-such-user-wrapp" }, { uid: 0 }),
    /Cannot run as user "no-such-user-wrapp": no such user/,
  );
  await assert.rejects(
    planUserSwitch({ user: "nobody", group: "no-such-group-wrapp" }, { uid: 0 }),
    /Cannot run with group "no-such-group-wrapp": no such group/,
  );
});

Deno.test("planUserSwitch() as root drops to the user with initgroups and no capabilities", async () => {
  const plan = (await planUserSwitch({ user: "nobody" }, { uid: 0 }))!;
  const nobody = (await lookupUser("nobody"))!;
  assert.deepEqual(plan.prefix, [
    "setpriv",
    `--reuid=${nobody.uid}`,
    `--regid=${nobody.gid}`,
    "--init-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
  ]);
  assert.equal(plan.env.USER, "nobody");
  assert.equal(plan.env.HOME, nobody.home);
});
