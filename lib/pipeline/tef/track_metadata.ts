/**
 * The TEF metadata lines that name a process and its tracks and set their order in Perfetto.
 *
 * @module
 */

/**
 * `M` events naming the process `processName` (pid `pid`) and each track of `tracks`
 * (name → tid), sorted by tid, as JSON lines.
 */
export function trackMetadata(
  pid: number,
  processName: string,
  tracks: Readonly<Record<string, number>>,
): string {
  const lines = [
    JSON.stringify({ ph: "M", pid, name: "process_name", args: { name: processName } }),
  ];
  for (const [track, tid] of Object.entries(tracks)) {
    lines.push(JSON.stringify({ ph: "M", pid, tid, name: "thread_name", args: { name: track } }));
    lines.push(
      JSON.stringify({ ph: "M", pid, tid, name: "thread_sort_index", args: { sort_index: tid } }),
    );
  }
  return lines.map((line) => line + "\n").join("");
}
