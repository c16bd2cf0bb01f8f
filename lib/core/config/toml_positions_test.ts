import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { tomlPositions } from "./toml_positions.ts";

Deno.test("tomlPositions() finds table headers and the keys under them", () => {
  const positions = tomlPositions(
    '# comment [not] a = 1\n[app]\nexecutable = "x"\n  args = []\n\n[output]\necho = true\n',
  );
  assert.deepEqual(positions.get(["app"]), { line: 2, column: 1 });
  assert.deepEqual(positions.get(["app", "executable"]), { line: 3, column: 1 });
  assert.deepEqual(positions.get(["app", "args"]), { line: 4, column: 3 });
  assert.deepEqual(positions.get(["output"]), { line: 6, column: 1 });
  assert.deepEqual(positions.get(["output", "echo"]), { line: 7, column: 1 });
});

Deno.test("tomlPositions() returns undefined for a key the document does not define", () => {
  const positions = tomlPositions('[app]\nexecutable = "x"\n');
  assert.equal(positions.get(["app", "args"]), undefined);
  assert.equal(positions.get(["executable"]), undefined);
  assert.equal(positions.get(["redis"]), undefined);
});

Deno.test("tomlPositions() places dotted keys and their implicit tables where the key starts", () => {
  const positions = tomlPositions('x = 1\n  app.env.HOME = "/h"\n[a . "b.c"]\nd = 1\n');
  assert.deepEqual(positions.get(["app"]), { line: 2, column: 3 });
  assert.deepEqual(positions.get(["app", "env"]), { line: 2, column: 3 });
  assert.deepEqual(positions.get(["app", "env", "HOME"]), { line: 2, column: 3 });
  assert.deepEqual(positions.get(["a", "b.c", "d"]), { line: 4, column: 1 });
});

Deno.test("tomlPositions() decodes quoted keys", () => {
  const positions = tomlPositions(`"a\\"b" = 1\n'c\\d' = 2\n"\\u00e9t\\u00e9" = 3\n`);
  assert.deepEqual(positions.get(['a"b']), { line: 1, column: 1 });
  assert.deepEqual(positions.get(["c\\d"]), { line: 2, column: 1 });
  assert.deepEqual(positions.get(["été"]), { line: 3, column: 1 });
});

Deno.test("tomlPositions() finds keys inside inline tables, also across lines", () => {
  const positions = tomlPositions(
    '[app]\nenv = { A = "1", B = { C = 2 } }\nx = [\n  { name = "n" }, # c\n  { name = "m" },\n]\n',
  );
  assert.deepEqual(positions.get(["app", "env", "A"]), { line: 2, column: 9 });
  assert.deepEqual(positions.get(["app", "env", "B", "C"]), { line: 2, column: 24 });
  assert.deepEqual(positions.get(["app", "x", "0", "name"]), { line: 4, column: 5 });
  assert.deepEqual(positions.get(["app", "x", "1", "name"]), { line: 5, column: 5 });
});

Deno.test("tomlPositions() is not fooled by brackets, quotes and hashes inside strings", () => {
  const text = String.raw`[app]
a = """
[fake]
b = \""" still inside
'''
"""
d = '''x''''
e = ['#', "]", 'x\' ,
  "[y]"]
f = "tab\"#"  # real comment [z]
g = 1979-05-27 07:32:00
h = 1
`;
  const parsed = parse(text) as { app: Record<string, unknown> };
  assert.deepEqual(Object.keys(parsed.app), ["a", "d", "e", "f", "g", "h"]);
  const positions = tomlPositions(text);
  assert.equal(positions.get(["fake"]), undefined);
  assert.equal(positions.get(["app", "b"]), undefined);
  assert.deepEqual(positions.get(["app", "a"]), { line: 2, column: 1 });
  assert.deepEqual(positions.get(["app", "d"]), { line: 7, column: 1 });
  assert.deepEqual(positions.get(["app", "e"]), { line: 8, column: 1 });
  assert.deepEqual(positions.get(["app", "f"]), { line: 10, column: 1 });
  assert.deepEqual(positions.get(["app", "g"]), { line: 11, column: 1 });
  assert.deepEqual(positions.get(["app", "h"]), { line: 12, column: 1 });
});

Deno.test("tomlPositions() reports the first definition of an array of tables", () => {
  const positions = tomlPositions("[[job]]\nname = 1\n\n[[job]]\nname = 2\n");
  assert.deepEqual(positions.get(["job"]), { line: 1, column: 1 });
  assert.deepEqual(positions.get(["job", "name"]), { line: 2, column: 1 });
});

Deno.test("tomlPositions() counts lines of a CRLF document", () => {
  const positions = tomlPositions('[app]\r\n\r\n  executable = "x"\r\n');
  assert.deepEqual(positions.get(["app", "executable"]), { line: 3, column: 3 });
});
