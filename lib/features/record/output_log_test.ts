import assert from "node:assert/strict";
import { OutputLog } from "./output_log.ts";

Deno.test("OutputLog writes what the streams and notes say, in order, and keeps the tail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-log-" });
  try {
    const log = await OutputLog.open(`${dir}/app.log`);
    log.note("$ prog\n");
    const child = new Deno.Command("sh", {
      args: ["-c", "printf 'one\\ntwo\\r\\nthree\\n'; echo oops >&2"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    log.pump(child.stdout);
    log.pump(child.stderr);
    await child.status;
    await log.close();
    const text = await Deno.readTextFile(`${dir}/app.log`);
    assert.ok(text.startsWith("$ prog\n"), text);
    assert.match(text, /one\ntwo\r\nthree\n/);
    assert.match(text, /oops\n/);
    assert.equal(log.text, text);
    assert.equal(log.tail(2).split("\n").length, 2);
    assert.match(log.tail(10), /^\$ prog\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OutputLog.open() says which file it cannot write", async () => {
  await assert.rejects(OutputLog.open("/nonexistent/wrapp/app.log"), {
    message: 'Cannot write "/nonexistent/wrapp/app.log": no such file or directory',
  });
});
