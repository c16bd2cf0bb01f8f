/**
 * Splitting `wrapp record --custom "CMD ARGS"` into words the way a shell would, without
 * a shell: whitespace separates words, single quotes keep everything, double quotes keep
 * everything but `\"` and `\\`, a backslash outside quotes escapes the next character.
 * Pipes, redirections, variables and globs are not interpreted; text that uses them is
 * refused, so nothing silently means something else than in a shell.
 *
 * @module
 */

import { UsageError } from "../../core/errors.ts";

/** Characters that mean something to a shell beyond quoting, outside quotes. */
const _SHELL_SYNTAX = new Set(["|", "&", ";", "<", ">", "(", ")", "$", "`", "*", "?", "~"]);

/**
 * The words of `text`. Throws a {@linkcode UsageError} for an unterminated quote, for
 * shell syntax outside quotes (`|`, `>`, `$`, `*`…, with a hint to use `sh -c`), and
 * for a text without any word.
 *
 * ```ts
 * splitShellWords(`./server --name "my app" 'a b'`); // ["./server", "--name", "my app", "a b"]
 * ```
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const add = (s: string) => word = (word ?? "") + s;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n") {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`Invalid --custom "${text}": unterminated ' quote`);
      add(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let part = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\" && (text[j + 1] === '"' || text[j + 1] === "\\")) {
          part += text[j + 1];
          j += 2;
        } else if (text[j] === "$" || text[j] === "`") {
          throw _syntax(text, text[j]);
        } else {
          part += text[j++];
        }
      }
      if (j >= text.length) {
        throw new UsageError(`Invalid --custom "${text}": unterminated " quote`);
      }
      add(part);
      i = j + 1;
    } else if (c === "\\") {
      if (i + 1 >= text.length) {
        throw new UsageError(`Invalid --custom "${text}": it ends with a backslash`);
      }
      add(text[i + 1]);
      i += 2;
    } else if (_SHELL_SYNTAX.has(c)) {
      throw _syntax(text, c);
    } else {
      add(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new UsageError("Invalid --custom: no command given");
  return words;
}

function _syntax(text: string, char: string): UsageError {
  return new UsageError(
    `Invalid --custom "${text}": "${char}" is shell syntax, which wrapp does not interpret; ` +
      `quote it, or record a shell: --custom "sh -c '…'"`,
  );
}

/** Words as a shell command line, quoting those that need it: `prog --save ''`. */
export function shellQuote(words: readonly string[]): string {
  return words.map((word) =>
    /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`
  ).join(" ");
}
