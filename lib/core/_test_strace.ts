/**
 * For tests: a command run under `strace -f`, traced from its first instruction, as wrapp's
 * children are when wrapp itself runs under `strace -f`.
 *
 * @module
 */

/** `command ARGS…` traced by strace; dispose to kill both. */
export interface StracedCommand extends AsyncDisposable {
  /** strace's pid: the command's tracer and parent. */
  readonly stracePid: number;
  /** The command's pid. */
  readonly pid: number;
}

/** Start `command ARGS…` under `strace -f -o /dev/null` and find its pid. */
export async function straced(command: string, args: string[]): Promise<StracedCommand> {
  const strace = new Deno.Command("strace", {
    args: ["-f", "-o", "/dev/null", command, ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // strace may have another, short-lived child besides the command (seen under load); the
  // command is the child whose command line is the command's.
  let pid = 0;
  for (let tries = 0; tries < 500 && pid === 0; tries++) {
    pid = _childRunning(strace.pid, command);
    if (pid === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const dispose = async () => {
    if (pid !== 0) Deno.kill(pid, "SIGKILL");
    strace.kill("SIGKILL");
    await strace.status;
  };
  if (pid === 0) {
    await dispose();
    throw new Error(`strace started no child for ${command}`);
  }
  return { stracePid: strace.pid, pid, [Symbol.asyncDispose]: dispose };
}

/** The child of `parent` whose command line starts with `command`, or 0. */
function _childRunning(parent: number, command: string): number {
  let children: string;
  try {
    children = Deno.readTextFileSync(`/proc/${parent}/task/${parent}/children`);
  } catch {
    return 0;
  }
  for (const child of children.trim().split(" ").filter(Boolean)) {
    try {
      if (Deno.readTextFileSync(`/proc/${child}/cmdline`).split("\0")[0] === command) {
        return Number(child);
      }
    } catch { /* gone meanwhile */ }
  }
  return 0;
}
