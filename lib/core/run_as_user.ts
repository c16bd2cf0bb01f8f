/**
 * Running the service as another user, with that user's supplementary groups.
 *
 * `Deno.Command`'s `uid`/`gid` call setgroups(0), which drops every supplementary
 * group (a Jetson service typically needs `video`, `gpio`, `i2c`). util-linux
 * `setpriv --init-groups` calls initgroups(3) instead, and `--inh-caps=-all
 * --bounding-set=-all` leaves the child no capability to regain.
 *
 * @module
 */

import { PrivilegeError } from "./errors.ts";
import { findExecutable } from "./find_executable.ts";

/** A passwd entry. */
export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** How to launch the child as another user. */
export interface UserSwitch {
  /** The account the child runs as. */
  account: UserAccount;
  /** The primary group id the child runs with. */
  gid: number;
  /** Program and leading arguments to put in front of the service's command. */
  prefix: string[];
  /** HOME, USER, LOGNAME and SHELL for the account. */
  env: Record<string, string>;
}

/**
 * The entry for `key` (a name, or an id when all digits, as getent reads it) in the text of
 * an `/etc/passwd` or `/etc/group` file, split at its colons.
 */
export function findEntry(text: string, key: string): string[] | undefined {
  const field = /^\d+$/.test(key) ? 2 : 0;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(":");
    if (fields[field] === key) return fields;
  }
  return undefined;
}

/**
 * The `database` entry for `key`: from `/etc/<database>` when it has one (NSS's `files`
 * source, first on every stock system), else from every NSS source through getent (LDAP,
 * sssd, systemd-homed). A getent costs a fork of wrapp at every start: 8-10 ms of CPU.
 */
async function _lookup(database: "passwd" | "group", key: string): Promise<string[] | undefined> {
  const text = await Deno.readTextFile(`/etc/${database}`).catch(() => "");
  return findEntry(text, key) ?? await _getent(database, key);
}

async function _getent(database: "passwd" | "group", key: string): Promise<string[] | undefined> {
  // Resolved here, not by spawn: a wrapp started with an empty environment has no PATH.
  const getent = await findExecutable("getent") ?? "getent";
  const output = await new Deno.Command(getent, {
    args: [database, key],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  if (!output.success) return undefined;
  const line = new TextDecoder().decode(output.stdout).split("\n")[0];
  return line ? line.split(":") : undefined;
}

/** Look a user up by name or numeric id: `/etc/passwd`, else NSS (`getent passwd`). */
export async function lookupUser(nameOrId: string | number): Promise<UserAccount | undefined> {
  const fields = await _lookup("passwd", String(nameOrId));
  if (!fields || fields.length < 7) return undefined;
  return {
    name: fields[0],
    uid: Number(fields[2]),
    gid: Number(fields[3]),
    home: fields[5],
    shell: fields[6],
  };
}

/** Look a group id up by name or number: `/etc/group`, else NSS (`getent group`). */
export async function lookupGroupId(nameOrId: string): Promise<number | undefined> {
  const fields = await _lookup("group", nameOrId);
  return fields && fields.length >= 3 ? Number(fields[2]) : undefined;
}

/** Name of the user wrapp runs as (falls back to the numeric id). */
export async function currentUserName(uid: number = Deno.uid() ?? 0): Promise<string> {
  return (await lookupUser(uid))?.name ?? String(uid);
}

/**
 * Decide how to start the child for `[app] user`/`group`: `undefined` when no switch is
 * needed, else the setpriv prefix. Throws {@linkcode PrivilegeError} when the user or
 * group does not exist, or a switch is asked for without root.
 */
export async function planUserSwitch(
  wanted: { user?: string; group?: string },
  options: { uid?: number } = {},
): Promise<UserSwitch | undefined> {
  if (wanted.user === undefined && wanted.group === undefined) return undefined;
  const myUid = options.uid ?? Deno.uid() ?? 0;
  const account = await lookupUser(wanted.user ?? myUid);
  if (!account) throw new PrivilegeError(`Cannot run as user "${wanted.user}": no such user`);
  let gid = account.gid;
  if (wanted.group !== undefined) {
    const found = await lookupGroupId(wanted.group);
    if (found === undefined) {
      throw new PrivilegeError(`Cannot run with group "${wanted.group}": no such group`);
    }
    gid = found;
  }
  if (myUid !== 0) {
    if (account.uid === myUid && gid === account.gid) return undefined;
    const me = await currentUserName(myUid);
    const what = wanted.group !== undefined
      ? `user "${account.name}" and group "${wanted.group}"`
      : `user "${account.name}"`;
    throw new PrivilegeError(
      `Cannot run the service as ${what}: switching users needs root, and wrapp runs as "${me}"`,
    );
  }
  return {
    account,
    gid,
    prefix: [
      "setpriv",
      `--reuid=${account.uid}`,
      `--regid=${gid}`,
      "--init-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "--",
    ],
    env: { HOME: account.home, USER: account.name, LOGNAME: account.name, SHELL: account.shell },
  };
}
