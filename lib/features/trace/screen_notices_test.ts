import assert from "node:assert/strict";
import { ScreenNotices } from "./screen_notices.ts";

Deno.test("ScreenNotices holds notices while the screen is up and writes them in order after", () => {
  const written: string[] = [];
  const notices = new ScreenNotices((text) => written.push(text));
  notices.notice("before");
  notices.screenUp();
  assert.equal(notices.up, true);
  notices.notice("during 1");
  notices.print("at once");
  notices.notice("during 2");
  assert.deepEqual(written, ["before", "at once"]);
  notices.screenDown();
  notices.notice("after");
  assert.deepEqual(written, ["before", "at once", "during 1", "during 2", "after"]);
});
