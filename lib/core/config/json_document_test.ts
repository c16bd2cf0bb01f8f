import assert from "node:assert/strict";
import { JsonSyntaxError, parseJsonDocument } from "./json_document.ts";

/** The error parsing `text` throws, as "line:column reason". */
function failure(text: string): string {
  try {
    parseJsonDocument(text);
  } catch (error) {
    assert.ok(error instanceof JsonSyntaxError, `expected a JsonSyntaxError, got ${error}`);
    assert.ok(error instanceof SyntaxError);
    return `${error.line}:${error.column} ${error.reason}`;
  }
  assert.fail(`expected a syntax error for ${JSON.stringify(text)}`);
}

Deno.test("parseJsonDocument() returns what JSON.parse returns for valid documents", () => {
  const documents = [
    "{}",
    "[]",
    " \t\r\n{ } ",
    '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    '{"n": [0, -0, 12, -3.5, 1e3, 2E-2, 4.25e+1, 123456789012345678901234567890]}',
    '{"s": "quote \\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 é ✓"}',
    '{"dup": 1, "dup": 2}',
    '{"__proto__": {"x": 1}, "constructor": 2}',
    '"just a string"',
    "42",
    "null",
    '[[[]], [{}], {"": ""}]',
  ];
  for (const text of documents) {
    assert.deepEqual(parseJsonDocument(text).value, JSON.parse(text), text);
  }
  const proto = parseJsonDocument('{"__proto__": {"x": 1}}').value as Record<string, unknown>;
  assert.ok(Object.hasOwn(proto, "__proto__"));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
});

Deno.test("parseJsonDocument() gives the line and column of every key", () => {
  const { positions } = parseJsonDocument(
    '{\n  "app": {\n    "executable": "/bin/x",\n\t"args": ["a", {"k": 1}]\n  },\n  "é": 1, "b": 2\n}',
  );
  assert.deepEqual(positions.get(["app"]), { line: 2, column: 3 });
  assert.deepEqual(positions.get(["app", "executable"]), { line: 3, column: 5 });
  assert.deepEqual(positions.get(["app", "args"]), { line: 4, column: 2 });
  assert.deepEqual(positions.get(["app", "args", "1", "k"]), { line: 4, column: 17 });
  assert.deepEqual(positions.get(["b"]), { line: 6, column: 11 });
  assert.equal(positions.get(["app", "user"]), undefined);
  assert.equal(positions.get([]), undefined);
});

Deno.test("parseJsonDocument() places a duplicate key at its last occurrence, whose value wins", () => {
  const { value, positions } = parseJsonDocument('{"a": 1,\n"a": 2}');
  assert.deepEqual(value, { a: 2 });
  assert.deepEqual(positions.get(["a"]), { line: 2, column: 1 });
});

Deno.test("parseJsonDocument() reports syntax errors with a line, a column and a reason", () => {
  assert.equal(
    failure(""),
    "1:1 expected a value (a string, number, object, array, true, false or null), got the end of the file",
  );
  assert.equal(
    failure('{\n  "a": 1\n  "b": 2\n}'),
    '3:3 expected "," or "}" after the value of "a", got "\\""',
  );
  assert.equal(
    failure('{\n  "a": 1,\n}'),
    "3:1 expected a key after the comma (JSON allows no comma before })",
  );
  assert.equal(
    failure('["a", ]'),
    "1:7 expected a value after the comma (JSON allows no comma before ])",
  );
  assert.equal(failure('{"a": [1 2]}'), '1:10 expected "," or "]" after an array item, got "2"');
  assert.equal(failure("{'a': 1}"), '1:2 expected a key in double quotes, got "\'"');
  assert.equal(failure("{a: 1}"), '1:2 expected a key in double quotes, got "a"');
  assert.equal(failure('{"a" 1}'), '1:6 expected ":" after the key "a", got "1"');
  assert.equal(
    failure('{"a": tru}'),
    '1:7 expected a value (a string, number, object, array, true, false or null), got "tru"',
  );
  assert.equal(
    failure('{"a": True}'),
    '1:7 expected a value (a string, number, object, array, true, false or null), got "True"',
  );
  assert.equal(failure('{"a": 01}'), '1:7 invalid number "01"');
  assert.equal(failure('{"a": 1.}'), '1:7 invalid number "1."');
  assert.equal(
    failure('{"a": +1}'),
    '1:7 expected a value (a string, number, object, array, true, false or null), got "+"',
  );
  assert.equal(
    failure('{"a": "x\ny"}'),
    "1:9 unterminated string (a line break in a string must be written \\n)",
  );
  assert.equal(
    failure('{"a": "x\ty"}'),
    "1:9 a control character in a string must be escaped, as \\t",
  );
  assert.equal(failure('{"a": "\\q"}'), '1:8 invalid escape "\\\\q" in a string');
  assert.equal(failure('{"a": "\\u12"}'), '1:8 invalid escape "\\\\u" in a string');
  assert.equal(failure('{"a": "open'), "1:7 unterminated string");
  assert.equal(
    failure('{"a": 1'),
    '1:8 expected "," or "}" after the value of "a", got the end of the file',
  );
  assert.equal(failure('{"a": 1} {'), '1:10 unexpected "{" after the end of the JSON value');
  assert.equal(
    failure('{\n  // the app\n  "app": {}\n}'),
    '2:3 JSON has no comments: write them as keys starting with "_", like "_comment": "…"',
  );
  assert.equal(failure("[".repeat(600)), "1:514 nested deeper than 512 levels");
});

Deno.test("parseJsonDocument() rejects everything JSON.parse rejects", () => {
  const invalid = [
    "{",
    "}",
    "[1,]",
    '{"a":1,}',
    "NaN",
    "Infinity",
    "-",
    "1e",
    ".5",
    "0x10",
    "'a'",
    '"\\x41"',
    "[1] [2]",
    "\u00a0{}",
  ];
  for (const text of invalid) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    assert.throws(() => parseJsonDocument(text), JsonSyntaxError, text);
  }
});
