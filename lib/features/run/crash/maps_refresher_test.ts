import assert from "node:assert/strict";
import { MapsRefresher } from "./maps_refresher.ts";

// The "process" is this test itself (its exec'd state resumed with a harmless SIGCONT);
// its maps are a file under a fake proc.
const pid = Deno.pid;
const PROGRAM = "55d0c8a00000-55d0c8a21000 r-xp 00001000 08:01 1234567    /usr/bin/app\n";
const LOADER_PATH = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
const LOADER = `7f9920b61000-7f9920b87000 r-xp 00001000 fe:00 338944    ${LOADER_PATH}\n`;

async function fakeProc(maps: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-maps-" });
  await Deno.mkdir(`${dir}/${pid}`);
  await Deno.writeTextFile(`${dir}/${pid}/maps`, maps);
  await writeStat(dir, 0x400000);
  return dir;
}

/** The stat line of the fake process, with `flags` (0x4: PF_EXITING). */
function writeStat(dir: string, flags: number): Promise<void> {
  return Deno.writeTextFile(`${dir}/${pid}/stat`, `${pid} (app) S 1 1 1 0 -1 ${flags} 0 0\n`);
}

function refresher(
  procDir: string,
  attach: (path: string) => Promise<void> | undefined,
  refreshMs = 0,
): { maps: MapsRefresher; reads: string[] } {
  const reads: string[] = [];
  const maps = new MapsRefresher({
    procDir,
    refreshMs,
    onMapsRead: (read, text) => reads.push(`${read}: ${text.length}`),
    attachLoaderHook: attach,
  });
  return { maps, reads };
}

Deno.test("MapsRefresher reads a static program once, at its exec", async () => {
  const dir = await fakeProc(PROGRAM);
  const attached: string[] = [];
  const { maps, reads } = refresher(dir, (path) => {
    attached.push(path);
    return Promise.resolve();
  }, 1000);
  maps.onExec(pid);
  await maps.settled();
  assert.deepEqual(reads, [`${pid}: ${PROGRAM.length}`]);
  assert.deepEqual(attached, []);
  maps.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MapsRefresher reads a burst of maps changed records once", async () => {
  const dir = await fakeProc(PROGRAM + LOADER);
  const { maps, reads } = refresher(dir, () => Promise.resolve());
  maps.onMapsChanged(pid);
  maps.onMapsChanged(pid);
  maps.onMapsChanged(pid);
  await maps.settled();
  assert.equal(reads.length, 1);
  maps.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MapsRefresher hooks a loader once its process has run a while, once for every process", async () => {
  const dir = await fakeProc(PROGRAM + LOADER);
  const attached: string[] = [];
  const { maps, reads } = refresher(dir, (path) => {
    attached.push(path);
    return Promise.resolve();
  }, 1000);
  maps.onExec(pid);
  await maps.settled();
  // At the exec, 50 and 250 ms after it, still running before the hook, what it mapped meanwhile.
  assert.equal(reads.length, 5);
  assert.deepEqual(attached, [`${dir}/${pid}/root${LOADER_PATH}`]);
  assert.equal(await maps.loaderHooks.get("fe:00:338944"), true);
  maps.onExec(pid);
  await maps.settled();
  assert.equal(reads.length, 6, "a hooked loader: read at the exec only");
  assert.equal(attached.length, 1);
  maps.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MapsRefresher polls a process whose loader cannot be hooked", async () => {
  const dir = await fakeProc(PROGRAM + LOADER);
  const { maps, reads } = refresher(dir, () => undefined, 5);
  maps.onExec(pid);
  await maps.settled();
  while (reads.length < 6) await new Promise((resolve) => setTimeout(resolve, 5));
  maps.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MapsRefresher keeps the maps read before when the process is exiting", async () => {
  const dir = await fakeProc(PROGRAM + LOADER);
  const { maps, reads } = refresher(dir, () => Promise.resolve());
  maps.onExec(pid);
  await maps.settled();
  const symbolizer = maps.symbolizerFor(pid);
  assert.equal(symbolizer.mappings.length, 2);
  const readsBefore = reads.length;
  // At its fatal signal: its memory is being torn down, and the kernel lists part of it.
  await Deno.writeTextFile(`${dir}/${pid}/maps`, LOADER);
  await writeStat(dir, 0x400004);
  assert.equal(await symbolizer.refreshMaps(), false);
  assert.deepEqual(symbolizer.mappings.map((m) => m.path), ["/usr/bin/app", LOADER_PATH]);
  assert.equal(reads.length, readsBefore, "the partial read is not a read of its maps");
  maps.stop();
  await Deno.remove(dir, { recursive: true });
});
