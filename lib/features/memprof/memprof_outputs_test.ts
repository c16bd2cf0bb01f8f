import assert from "node:assert/strict";
import { SinkError } from "../../core/errors.ts";
import { STACKS } from "./_test_stacks.ts";
import { shortCommand, writeMemprofOutputs } from "./memprof_outputs.ts";
import type { MemprofSession, MemprofSnapshot } from "./memprof_session.ts";

const FINAL: MemprofSnapshot = {
  time: 0,
  stacks: STACKS,
  residentKb: 82020,
  cacheKb: 8192,
  final: true,
};
// --out and --folded read only the final snapshot.
const NO_SESSION = {} as MemprofSession;

Deno.test("shortCommand() cuts a command line to 80 characters", () => {
  assert.equal(shortCommand("./app --port 8080"), "./app --port 8080");
  const long = "x".repeat(100);
  assert.equal(shortCommand(long), `${"x".repeat(79)}…`);
  assert.equal(shortCommand(long).length, 80);
});

Deno.test("writeMemprofOutputs() writes the tree and the folded stacks, each with a notice", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const notices: string[] = [];
    await writeMemprofOutputs(NO_SESSION, FINAL, {
      out: `${dir}/tree.json`,
      folded: `${dir}/app.folded`,
      threshold: 0,
      reverse: false,
    }, (text) => notices.push(text));
    const tree = JSON.parse(await Deno.readTextFile(`${dir}/tree.json`));
    assert.equal(tree.value, 65536 + 16384 + 8192 + 100, "resident and cache of every stack");
    assert.match(await Deno.readTextFile(`${dir}/app.folded`), /alloc_a 65536/);
    assert.deepEqual(notices, [
      `wrapp: wrote the call tree to ${dir}/tree.json`,
      `wrapp: wrote collapsed stacks to ${dir}/app.folded`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeMemprofOutputs() says which file cannot be written", async () => {
  await assert.rejects(
    writeMemprofOutputs(NO_SESSION, FINAL, {
      folded: "/nonexistent-dir/app.folded",
      threshold: 0,
      reverse: false,
    }, () => {}),
    (error) =>
      error instanceof SinkError &&
      /^Cannot write "\/nonexistent-dir\/app\.folded": /.test(error.message),
  );
});
