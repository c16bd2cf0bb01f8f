import assert from "node:assert/strict";
import {
  bucketRange,
  histogramMoments,
  histogramQuantile,
  latencyBucket,
  type LatencyHistogram,
  summarizeHistogram,
} from "./latency_histogram.ts";

/** The bucket computation of bpf/syscalls.bt, step by step, in 64-bit integers. */
function bpfBucket(lat: bigint): bigint {
  let v = lat;
  let b = 0n;
  if (v >= 4294967296n) {
    v >>= 32n;
    b += 32n;
  }
  if (v >= 65536n) {
    v >>= 16n;
    b += 16n;
  }
  if (v >= 256n) {
    v >>= 8n;
    b += 8n;
  }
  if (v >= 16n) {
    v >>= 4n;
    b += 4n;
  }
  if (v >= 4n) {
    v >>= 2n;
    b += 2n;
  }
  if (v >= 2n) b += 1n;
  const sub = b >= 2n ? (lat >> (b - 2n)) & 3n : lat;
  return b * 4n + sub;
}

Deno.test("latencyBucket() matches the program's computation around every power of two", () => {
  const samples = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 100, 999, 1000, 123456789];
  for (let p = 2; p < 50; p++) {
    const base = 2 ** p;
    samples.push(base - 1, base, base + 1, base + base / 4, base + base / 2 - 1, base * 1.75);
  }
  for (const ns of samples) {
    assert.equal(latencyBucket(ns), Number(bpfBucket(BigInt(Math.floor(ns)))), `latency ${ns}`);
  }
});

Deno.test("bucketRange() holds exactly the latencies of its bucket", () => {
  for (let bucket = 0; bucket < 4 * 40; bucket++) {
    if (bucket >= 2 && bucket < 4) continue; // octave 0 has only 0 and 1
    if (bucket >= 4 && bucket < 6) continue; // octave 1 has only 2 and 3
    const { low, high } = bucketRange(bucket);
    assert.equal(latencyBucket(low), bucket, `low of ${bucket}`);
    assert.equal(latencyBucket(high), bucket, `high of ${bucket}`);
    if (low > 0) assert.notEqual(latencyBucket(low - 1), bucket);
    assert.notEqual(latencyBucket(high + 1), bucket);
  }
  // A quarter octave: 1 ms lands in [983040, 1048575] (2^19 + 3 * 2^17 … 2^20 - 1).
  assert.deepEqual(bucketRange(latencyBucket(1_000_000)), { low: 917504, high: 1048575 });
});

function histogramOf(latencies: number[]): LatencyHistogram {
  const histogram: LatencyHistogram = new Map();
  for (const ns of latencies) {
    const bucket = latencyBucket(ns);
    const totals = histogram.get(bucket) ?? { count: 0, total: 0 };
    totals.count++;
    totals.total += ns;
    histogram.set(bucket, totals);
  }
  return histogram;
}

Deno.test("summarizeHistogram() gives exact totals, bucket-mean percentiles and a bounded max", () => {
  const latencies = [...Array(98).fill(200), 5000, 80_000];
  const summary = summarizeHistogram(histogramOf(latencies));
  assert.equal(summary.count, 100);
  assert.equal(summary.totalNs, 98 * 200 + 5000 + 80_000);
  assert.equal(summary.meanNs, summary.totalNs / 100);
  assert.equal(summary.p50Ns, 200);
  assert.equal(summary.p99Ns, 5000);
  assert.equal(summary.maxNs, 80_000, "alone in the top bucket: exact");
  assert.equal(summary.maxExact, true);

  const two = summarizeHistogram(histogramOf([70_000, 72_000]));
  assert.equal(two.maxExact, false);
  assert.equal(two.maxNs, bucketRange(latencyBucket(72_000)).high);
  assert.ok(two.maxNs >= 72_000 && two.maxNs < 72_000 * 1.25);
});

Deno.test("histogramQuantile() of an empty histogram is 0", () => {
  assert.equal(histogramQuantile(new Map(), 0.5), 0);
  assert.deepEqual(summarizeHistogram(new Map()).count, 0);
});

Deno.test("histogramMoments() estimates the variance within the bucket widths", () => {
  const latencies = [1000, 1010, 1020, 1030, 5000];
  const moments = histogramMoments(histogramOf(latencies));
  assert.equal(moments.count, 5);
  assert.equal(moments.sum, 9060);
  const exact = latencies.reduce((s, x) => s + x * x, 0);
  // Same buckets for the first four: their spread is overestimated by at most width²/12 each.
  assert.ok(moments.sumSquares >= exact * 0.99 && moments.sumSquares <= exact * 1.05);
});
