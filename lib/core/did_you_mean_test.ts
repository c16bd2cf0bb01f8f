import assert from "node:assert/strict";
import { didYouMean } from "./did_you_mean.ts";

const APP_KEYS = ["executable", "args", "user", "group", "stream_name", "cwd", "env"];

Deno.test("didYouMean() suggests the key when two letters are swapped", () => {
  assert.equal(didYouMean("exectuable", APP_KEYS), "executable");
  // A swap counts as one edit, not two: enough for a 3-letter word, which allows one.
  assert.equal(didYouMean("cdw", APP_KEYS), "cwd");
});

Deno.test("didYouMean() suggests despite a missing, extra or wrong letter", () => {
  assert.equal(didYouMean("executabe", APP_KEYS), "executable");
  assert.equal(didYouMean("arggs", APP_KEYS), "args");
  assert.equal(didYouMean("stream-name", APP_KEYS), "stream_name");
  assert.equal(didYouMean("ap", ["app", "output", "local", "redis"]), "app");
});

Deno.test("didYouMean() ignores case", () => {
  assert.equal(didYouMean("Executable", APP_KEYS), "executable");
  assert.equal(didYouMean("streamName", APP_KEYS), "stream_name");
});

Deno.test("didYouMean() suggests nothing when no candidate is close", () => {
  assert.equal(didYouMean("colour", APP_KEYS), undefined);
  assert.equal(didYouMean("environment", APP_KEYS), undefined);
  assert.equal(didYouMean("x", ["run", "check"]), undefined);
  assert.equal(didYouMean("anything", []), undefined);
});

Deno.test("didYouMean() allows fewer edits for shorter words", () => {
  // Two edits are too many for a 3-letter word but fine for a 6-letter one.
  assert.equal(didYouMean("usr", ["user"]), "user");
  assert.equal(didYouMean("gpx", ["group"]), undefined);
  assert.equal(didYouMean("grp", ["group"]), undefined);
  assert.equal(didYouMean("groups", ["group"]), "group");
  assert.equal(didYouMean("outptu", ["output"]), "output");
  assert.equal(didYouMean("otpt", ["output"]), "output");
});

Deno.test("didYouMean() prefers the closest candidate, then the earliest", () => {
  assert.equal(didYouMean("chek", ["cheek", "check"]), "cheek");
  assert.equal(didYouMean("rn", ["run", "rm"]), "run");
  assert.equal(didYouMean("checks", ["chuck", "check"]), "check");
});

Deno.test("didYouMean() takes any iterable of candidates", () => {
  assert.equal(didYouMean("redsi", new Set(["app", "redis"])), "redis");
});
