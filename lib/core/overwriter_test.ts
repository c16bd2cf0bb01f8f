import assert from "node:assert/strict";
import { openOverwriter } from "./overwriter.ts";

Deno.test("openOverwriter() rewrites a file from its start and leaves what lies beyond", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/state`;
  try {
    Deno.writeTextFileSync(path, "");
    const file = openOverwriter(path);
    assert.ok(file, "glibc and FFI are there on the machines wrapp supports");
    const encode = (text: string) => new TextEncoder().encode(text);
    file.write(encode("held 1-100000\n"));
    assert.equal(Deno.readTextFileSync(path), "held 1-100000\n");
    file.write(encode("held 7-9\n"));
    assert.equal(Deno.readTextFileSync(path), "held 7-9\n0000\n");
    file.close();
    file.close();
    assert.throws(() => file.write(encode("x")), /is closed/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("openOverwriter() is undefined for a file it cannot open, for the caller to seek and write", () => {
  assert.equal(openOverwriter("/nonexistent/wrapp/state"), undefined);
});
