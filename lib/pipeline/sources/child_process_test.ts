import assert from "node:assert/strict";
import { isWrappSecret } from "./child_process.ts";

Deno.test("isWrappSecret() picks wrapp's passwords, tokens and keys, not its other variables", () => {
  for (
    const name of [
      "WRAPP_REDIS_PASSWORD",
      "WRAPP_DB_PASSWD",
      "WRAPP_API_TOKEN",
      "WRAPP_CLIENT_SECRET",
      "WRAPP_CREDENTIALS",
      "WRAPP_KEY",
      "WRAPP_API_KEY",
      "WRAPP_KEY_FILE_PASSWORD",
    ]
  ) {
    assert.ok(isWrappSecret(name), name);
  }
  for (
    const name of ["WRAPP_DEBUG", "WRAPP_BPFTRACE", "WRAPP_KEYBOARD", "REDIS_PASSWORD", "PATH"]
  ) {
    assert.ok(!isWrappSecret(name), name);
  }
});
