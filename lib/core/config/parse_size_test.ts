import assert from "node:assert/strict";
import { describeSize, formatSize, parsePercent, parseSize } from "./parse_size.ts";

Deno.test("parseSize() reads K, M, G, T and their iB forms as powers of 1024", () => {
  assert.equal(parseSize("512M"), 512 * 1024 ** 2);
  assert.equal(parseSize("1G"), 1024 ** 3);
  assert.equal(parseSize("64MiB"), 64 * 1024 ** 2);
  assert.equal(parseSize("2k"), 2048);
  assert.equal(parseSize("1T"), 1024 ** 4);
  assert.equal(parseSize("1.5G"), 1.5 * 1024 ** 3);
  assert.equal(parseSize(" 8 gib "), 8 * 1024 ** 3);
});

Deno.test("parseSize() reads KB, MB, GB as powers of 1000 and plain numbers as bytes", () => {
  assert.equal(parseSize("100MB"), 100_000_000);
  assert.equal(parseSize("1kb"), 1000);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("4096B"), 4096);
  assert.equal(parseSize(1048576), 1048576);
  assert.equal(parseSize("0.5K"), 512);
  assert.equal(parseSize("1.3"), 1);
});

Deno.test("parseSize() rejects what is no size", () => {
  for (const bad of ["", "M", "12X", "-1M", "1 2M", "1e6", "12MiBs", "1.M", 1.5, -1, true, null]) {
    assert.equal(parseSize(bad), undefined, String(bad));
  }
  assert.equal(parseSize("99999999999T"), undefined); // beyond 2^53
});

Deno.test("formatSize() writes a size that parseSize() reads back exactly", () => {
  for (const bytes of [536870912, 1024 ** 3, 1536 * 1024, 1000, 12345, 5 * 1024 ** 4]) {
    assert.equal(parseSize(formatSize(bytes)), bytes);
  }
  assert.equal(formatSize(512 * 1024 ** 2), "512M");
  assert.equal(formatSize(1536 * 1024 ** 2), "1536M");
  assert.equal(formatSize(1000), "1000");
});

Deno.test("describeSize() writes bytes for people", () => {
  assert.equal(describeSize(512), "512 B");
  assert.equal(describeSize(64 * 1024 ** 2), "64 MiB");
  assert.equal(describeSize(1.5 * 1024 ** 3), "1.5 GiB");
  assert.equal(describeSize(150.4 * 1024 ** 2), "150 MiB");
});

Deno.test("parsePercent() reads percentages, also above 100", () => {
  assert.equal(parsePercent("50%"), 50);
  assert.equal(parsePercent("250%"), 250);
  assert.equal(parsePercent(" 12.5 % "), 12.5);
  for (const bad of ["50", 50, "%", "-5%", "5%%", ""]) assert.equal(parsePercent(bad), undefined);
});
