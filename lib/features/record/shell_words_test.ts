import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { shellQuote, splitShellWords } from "./shell_words.ts";

Deno.test("splitShellWords() splits on blanks and honours quotes and backslashes", () => {
  assert.deepEqual(splitShellWords("  ./server   --port 80 "), ["./server", "--port", "80"]);
  assert.deepEqual(splitShellWords(`prog "a b" 'c "d"' e\\ f ""`), [
    "prog",
    "a b",
    'c "d"',
    "e f",
    "",
  ]);
  assert.deepEqual(splitShellWords(`echo "x\\"y" it"'"s`), ["echo", 'x"y', "it's"]);
  assert.deepEqual(splitShellWords(`sh -c 'ls | wc -l > $HOME/n'`), [
    "sh",
    "-c",
    "ls | wc -l > $HOME/n",
  ]);
});

Deno.test("splitShellWords() refuses shell syntax it would not interpret, and broken quotes", () => {
  for (const text of ["ls | wc", "prog > out", "echo $HOME", 'echo "$HOME"', "ls *.c", "a; b"]) {
    assert.throws(
      () => splitShellWords(text),
      (e: unknown) => e instanceof UsageError && /is shell syntax.*sh -c/.test(e.message),
      text,
    );
  }
  assert.throws(() => splitShellWords(`prog 'open`), /unterminated ' quote/);
  assert.throws(() => splitShellWords(`prog "open`), /unterminated " quote/);
  assert.throws(() => splitShellWords("prog \\"), /ends with a backslash/);
  assert.throws(() => splitShellWords("   "), /no command given/);
});

Deno.test("shellQuote() quotes only what needs it, and splitShellWords() reads it back", () => {
  const words = ["/usr/bin/redis-server", "--save", "", "a b", "it's", "x=1,2"];
  const line = shellQuote(words);
  assert.equal(line, `/usr/bin/redis-server --save '' 'a b' 'it'"'"'s' x=1,2`);
  assert.deepEqual(splitShellWords(line), words);
});
