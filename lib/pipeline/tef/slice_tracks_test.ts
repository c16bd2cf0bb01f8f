import assert from "node:assert/strict";
import { SliceTracks } from "./slice_tracks.ts";

Deno.test("SliceTracks places slices in whole µs, never overlapping on a track", () => {
  const tracks = new SliceTracks();
  const start = 1_764_000_000_000_250.3; // epoch µs with a fraction
  const first = tracks.place("t1", start, 1_000_400);
  assert.deepEqual(first, { ts: 1_764_000_000_000_250, dur: 1001 });
  // Starts 1.0004 ms later, i.e. before the rounded-up end of the first: moved after it.
  const second = tracks.place("t1", start + 1000.4, 5_000);
  assert.equal(second.ts, first.ts + first.dur);
  assert.equal(second.dur, 5);
  // Another track is independent; a zero-length slice still lasts 1 µs.
  assert.deepEqual(tracks.place("t2", start, 0), { ts: 1_764_000_000_000_250, dur: 1 });
});
