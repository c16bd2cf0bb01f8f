/**
 * A service that puts ids in its marker names: wrapp keeps a bounded number of running
 * totals (lib/pipeline/transforms/extract_markers.ts), says so once, and still turns every marker
 * into a metric event.
 */

import assert from "node:assert/strict";
import { readLatestTrace, runWrapp, tempDir, writeConfig, writeScript } from "./_helpers.ts";
import { DEFAULT_MAX_MARKER_NAMES } from "../lib/pipeline/transforms/extract_markers.ts";

Deno.test("wrapp run with more distinct marker names than it keeps totals for: warned once, every marker still counted", async () => {
  await using dir = await tempDir();
  const names = DEFAULT_MAX_MARKER_NAMES * 3;
  const script = await writeScript(dir.path, "svc.sh", `seq -f '{{id%.0f}}' 1 ${names}`);
  const result = await runWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  assert.equal(result.code, 0, result.stderr);
  const warnings = result.stderr.split("\n").filter((line) =>
    line.includes("distinct marker names")
  );
  assert.equal(warnings.length, 1, result.stderr);
  assert.match(warnings[0], new RegExp(`more than ${DEFAULT_MAX_MARKER_NAMES} distinct`));
  const events = await readLatestTrace(`${dir.path}/traces`);
  const status = events.filter((e) => e.ph === "i" && /distinct marker names/.test(e.name ?? ""));
  assert.ok(status.length >= 1, "the warning is in the trace");
  // Every marker is still a metric: one counter event per printed marker.
  const counters = events.filter((e) => e.ph === "C" && /^id\d+$/.test(e.name ?? ""));
  assert.equal(counters.length, names);
});
