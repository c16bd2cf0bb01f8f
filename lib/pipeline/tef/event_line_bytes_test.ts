import assert from "node:assert/strict";
import { isPlainEventLine } from "./event_line_bytes.ts";

const encoder = new TextEncoder();

function check(text: string | Uint8Array): boolean {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return isPlainEventLine(bytes, 0, bytes.length);
}

/** An event line whose string value holds `raw` bytes. */
function inString(...raw: number[]): Uint8Array {
  return new Uint8Array([...encoder.encode('{"ph":"i","s":"'), ...raw, ...encoder.encode('"}')]);
}

/** What JSON.parse says, for lines the byte check must be sure of. */
function parsesAsEvent(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  if (!text.startsWith('{"')) return false;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) &&
      typeof value.ph === "string";
  } catch {
    return false;
  }
}

const SAMPLES = [
  '{"ph":"i","ts":1733472000123456,"pid":42,"tid":2,"name":"hello","s":"t"}',
  '{"ph":"C","ts":1.5e3,"pid":1,"tid":5,"name":"fps","args":{"value":-0.25,"unit":null}}',
  '{"ph":"B","ts":0,"pid":1,"tid":1,"name":"run r-1","cat":"run","args":{"argv":["a","b c"],"ok":true,"no":false}}',
  '{"ph":"i","name":"tab\\there \\"quoted\\" \\\\ \\/ \\u00e9\\ud83d\\ude00","args":{"nested":[[1,[2,{"x":[]}]],{}]}}',
  '{"ph":"i","name":"déjà vu ✓ 𝄞 日本","args":{"empty":"","e":1E+2,"f":2e-3}}',
  '{"ts":1,"ph":"M","args":{"ph":3}}',
];

Deno.test("isPlainEventLine() accepts the lines wrapp writes, so assembly takes the fast path", () => {
  for (const line of SAMPLES) assert.equal(check(line), true, line);
  assert.equal(check(SAMPLES[0] + "  \r\n"), true, "trailing JSON whitespace");
  assert.equal(check('{"ph" : "i" , "a" : [ 1 , 2 ] }'), true, "spaces between tokens");
});

Deno.test("isPlainEventLine() is never sure of a line JSON.parse would refuse or skip", () => {
  const cases: [string | Uint8Array, string][] = [
    ["", "empty"],
    ["{}", "no keys"],
    [' {"ph":"i"}', "leading space (the slow path re-serialises it)"],
    ['{"ph":1}', "ph is a number"],
    ['{"ph":"i","ph":2}', "the last ph is a number"],
    ['{"name":"x"}', "no ph"],
    ['{"args":{"ph":"i"}}', "ph only nested"],
    ['{"\\u0070h":"i"}', "escaped key: JSON.parse must decide"],
    ['{"ph":"i"', "cut off before }"],
    ['{"ph":"i","name":"li', "cut off inside a string"],
    ['{"ph":"i"}{"ph":"i"}', "two objects glued by a failed write"],
    ['{"ph":"i","n":01}', "leading zero"],
    ['{"ph":"i","n":1.}', "no fraction digits"],
    ['{"ph":"i","n":-}', "lone minus"],
    ['{"ph":"i","n":1e}', "no exponent digits"],
    ['{"ph":"i","n":tru}', "cut literal"],
    ['{"ph":"i","n":[1,]}', "trailing comma in array"],
    ['{"ph":"i",}', "trailing comma in object"],
    ['{"ph":"i","s":"a\\x"}', "bad escape"],
    ['{"ph":"i","s":"\\u12g4"}', "bad hex escape"],
    ['{"ph":"i","s":"a\tb"}', "raw control character"],
    [inString(0xc3, 0x28), "invalid UTF-8"],
    [inString(0xed, 0xa0, 0x80), "UTF-8 surrogate"],
    [inString(0xe0, 0x80, 0x80), "overlong UTF-8"],
    ['{"ph":"i","deep":' + "[".repeat(100) + "]".repeat(100) + "}", "deeper than 64"],
  ];
  for (const [line, why] of cases) assert.equal(check(line), false, why);
});

Deno.test("isPlainEventLine() agrees with JSON.parse on 30,000 damaged lines", () => {
  let seed = 0x2545f491;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const alphabet = encoder.encode('{}[]":,.-+eE0123456789\\ u/tfnrab\t\x00\xff');
  let sure = 0;
  for (let round = 0; round < 30_000; round++) {
    const bytes = [...encoder.encode(SAMPLES[random(SAMPLES.length)])];
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(bytes.length + 1);
      const kind = random(4);
      if (kind === 0) bytes.splice(at); // cut off
      else if (kind === 1) bytes.splice(at, 1); // a byte lost
      else if (kind === 2) bytes.splice(at, 0, alphabet[random(alphabet.length)]);
      else bytes[at] = random(256);
    }
    const line = new Uint8Array(bytes.filter((b) => b !== undefined));
    const fast = check(line);
    const parsed = parsesAsEvent(line);
    if (fast) {
      sure++;
      assert.ok(parsed, `sure of a line JSON.parse refuses: ${JSON.stringify([...line])}`);
    } else if (!line.includes(0x5c)) {
      // Without escapes the byte check has no reason to be unsure of a valid line.
      assert.ok(!parsed, `unsure of a valid line: ${new TextDecoder().decode(line)}`);
    }
  }
  assert.ok(sure > 1000, `only ${sure} damaged lines were still valid`);
});
