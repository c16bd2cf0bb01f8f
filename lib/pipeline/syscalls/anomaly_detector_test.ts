import assert from "node:assert/strict";
import { judgeCall, type LatencyMoments, momentsWithout } from "./anomaly_detector.ts";

function moments(latencies: number[]): LatencyMoments {
  return {
    count: latencies.length,
    sum: latencies.reduce((s, x) => s + x, 0),
    sumSquares: latencies.reduce((s, x) => s + x * x, 0),
  };
}

Deno.test("judgeCall() flags a call far above the mean of the other calls", () => {
  const others = [1000, 1100, 900, 1050, 950, 1000, 1020, 980];
  const verdict = judgeCall(300_000, momentsWithout(moments([...others, 300_000]), 300_000));
  assert.deepEqual(verdict.reasons, ["zscore"]);
  assert.equal(verdict.meanNs, 1000);
  assert.ok(verdict.stddevNs! > 50 && verdict.stddevNs! < 60);
  assert.ok(verdict.zScore! > 5000);
});

Deno.test("judgeCall() leaves ordinary calls alone, with their z-score", () => {
  const all = [1000, 1100, 900, 1050, 950, 1000, 1020, 980];
  const verdict = judgeCall(1100, momentsWithout(moments(all), 1100));
  assert.deepEqual(verdict.reasons, []);
  assert.ok(verdict.zScore! < 3);
});

Deno.test("judgeCall() honours --threshold", () => {
  const all = [100, 110, 90, 105, 95, 100, 130];
  const others = momentsWithout(moments(all), 130);
  assert.deepEqual(judgeCall(130, others, { thresholdSigma: 2 }).reasons, ["zscore"]);
  assert.deepEqual(judgeCall(130, others, { thresholdSigma: 9 }).reasons, []);
});

Deno.test("judgeCall() needs enough other calls for a z-score; --slow applies regardless", () => {
  const few = judgeCall(300_000_000, moments([1000, 1000]));
  assert.equal(few.zScore, null);
  assert.equal(few.meanNs, null);
  assert.deepEqual(few.reasons, []);
  assert.deepEqual(
    judgeCall(300_000_000, moments([1000]), { slowNs: 100_000_000 }).reasons,
    ["slow"],
  );
  assert.deepEqual(judgeCall(300_000_000, undefined, { slowNs: 1 }).reasons, ["slow"]);
});

Deno.test("judgeCall() gives a finite z-score when every other call took the same time", () => {
  const verdict = judgeCall(2000, moments([1000, 1000, 1000, 1000, 1000, 1000]));
  assert.ok(Number.isFinite(verdict.zScore));
  assert.deepEqual(verdict.reasons, ["zscore"]);
});

Deno.test("momentsWithout() removes one call and never goes negative", () => {
  assert.deepEqual(momentsWithout(moments([10, 20]), 20), { count: 1, sum: 10, sumSquares: 100 });
  assert.deepEqual(momentsWithout({ count: 0, sum: 0, sumSquares: 0 }, 5), {
    count: 0,
    sum: 0,
    sumSquares: 0,
  });
});
