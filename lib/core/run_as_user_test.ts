import assert from "node:assert/strict";
import { lookupUser, planUserSwitch } from "./run_as_user.ts";
import { PrivilegeError } from "./errors.ts";

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
