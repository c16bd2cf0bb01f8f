/**
 * A strict JSON parser that also says where each key is, for configs in the Go wrapp's JSON
 * format.
 *
 * `JSON.parse` gives neither the position of a key (needed for "unknown key" errors that
 * name a line and column) nor, for every syntax error, a position at all. This parser
 * accepts exactly what `JSON.parse` accepts (RFC 8259, as Go's `encoding/json` does), returns
 * the same value, and reports syntax errors with a line, a column and a reason in words.
 *
 * @module
 */

/** A 1-based line and column in a text (columns count UTF-16 code units). */
export interface JsonPosition {
  line: number;
  column: number;
}

/** A parsed JSON document. */
export interface JsonDocument {
  /** The value, as `JSON.parse` returns it (for a duplicate key, the last value wins). */
  value: unknown;
  /**
   * Where the member at `path` is defined (the opening quote of its key; for a duplicate
   * key, its last occurrence), e.g. `["app", "executable"]`. `undefined` when there is none.
   */
  positions: { get(path: readonly string[]): JsonPosition | undefined };
}

/** A JSON syntax error, with where it is and why, e.g. `expected "," or "}" after the value of "port"`. */
export class JsonSyntaxError extends SyntaxError {
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly column: number;
  /** What is wrong, without the position. */
  readonly reason: string;

  /** Create an error at `position` for `reason`. */
  constructor(reason: string, position: JsonPosition) {
    super(`${reason} at line ${position.line}, column ${position.column}`);
    this.name = "JsonSyntaxError";
    this.line = position.line;
    this.column = position.column;
    this.reason = reason;
  }
}

/**
 * Parse `text` as one JSON value and note where each object member is.
 *
 * @throws {JsonSyntaxError} when `text` is not valid JSON.
 *
 * ```ts
 * const { value, positions } = parseJsonDocument('{\n  "app": { "user": "" }\n}');
 * positions.get(["app", "user"]); // { line: 2, column: 12 }
 * ```
 */
export function parseJsonDocument(text: string): JsonDocument {
  const offsets = new Map<string, number>();
  const parser = new _Parser(text, offsets);
  const value = parser.document();
  return {
    value,
    positions: {
      get(path) {
        const offset = offsets.get(JSON.stringify(path));
        return offset === undefined ? undefined : _position(text, offset);
      },
    },
  };
}

const _NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const _NUMBER_LIKE = /[-+.0-9A-Za-z]+/y;
// JSON strings exclude the control characters U+0000 to U+001F.
// deno-lint-ignore no-control-regex
const _STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9A-Fa-f]{4})*"/y;
const _WORD = /[A-Za-z0-9_$]+/y;
const _MAX_DEPTH = 512;
const _NO_COMMENTS =
  'JSON has no comments: write them as keys starting with "_", like "_comment": "…"';

class _Parser {
  #i = 0;
  constructor(readonly text: string, readonly offsets: Map<string, number>) {}

  document(): unknown {
    const value = this.#value([]);
    this.#skipSpace();
    if (this.#i < this.text.length) {
      throw this.#fail(`unexpected ${this.#next()} after the end of the JSON value`);
    }
    return value;
  }

  #value(path: readonly string[]): unknown {
    this.#skipSpace();
    // Bounded, so a hostile file cannot overflow the stack.
    if (path.length > _MAX_DEPTH) throw this.#fail(`nested deeper than ${_MAX_DEPTH} levels`);
    const c = this.text[this.#i];
    if (c === "{") return this.#object(path);
    if (c === "[") return this.#array(path);
    if (c === '"') return this.#string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.#i) && !this.#wordAt(this.#i + word.length)) {
        this.#i += word.length;
        return value;
      }
    }
    if (c === "/") throw this.#fail(_NO_COMMENTS);
    throw this.#fail(
      `expected a value (a string, number, object, array, true, false or null), got ${this.#next()}`,
    );
  }

  #object(path: readonly string[]): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.#i++; // "{"
    this.#skipSpace();
    if (this.text[this.#i] === "}") {
      this.#i++;
      return object;
    }
    while (true) {
      this.#skipSpace();
      const c = this.text[this.#i];
      if (c !== '"') {
        if (c === "/") throw this.#fail(_NO_COMMENTS);
        throw this.#fail(
          c === "}"
            ? "expected a key after the comma (JSON allows no comma before })"
            : `expected a key in double quotes, got ${this.#next()}`,
        );
      }
      const start = this.#i;
      const key = this.#string();
      const memberPath = [...path, key];
      this.offsets.set(JSON.stringify(memberPath), start);
      this.#skipSpace();
      if (this.text[this.#i] !== ":") {
        throw this.#fail(`expected ":" after the key ${JSON.stringify(key)}, got ${this.#next()}`);
      }
      this.#i++;
      // defineProperty: a key such as "__proto__" is an own property, as with JSON.parse.
      Object.defineProperty(object, key, {
        value: this.#value(memberPath),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.#skipSpace();
      const after = this.text[this.#i];
      this.#i++;
      if (after === "}") return object;
      if (after === ",") continue;
      this.#i--;
      if (after === "/") throw this.#fail(_NO_COMMENTS);
      throw this.#fail(
        `expected "," or "}" after the value of ${JSON.stringify(key)}, got ${this.#next()}`,
      );
    }
  }

  #array(path: readonly string[]): unknown[] {
    const array: unknown[] = [];
    this.#i++; // "["
    this.#skipSpace();
    if (this.text[this.#i] === "]") {
      this.#i++;
      return array;
    }
    while (true) {
      this.#skipSpace();
      if (this.text[this.#i] === "]") {
        throw this.#fail("expected a value after the comma (JSON allows no comma before ])");
      }
      array.push(this.#value([...path, String(array.length)]));
      this.#skipSpace();
      const after = this.text[this.#i];
      this.#i++;
      if (after === "]") return array;
      if (after === ",") continue;
      this.#i--;
      if (after === "/") throw this.#fail(_NO_COMMENTS);
      throw this.#fail(`expected "," or "]" after an array item, got ${this.#next()}`);
    }
  }

  #string(): string {
    _STRING.lastIndex = this.#i;
    const match = _STRING.exec(this.text);
    if (match) {
      this.#i = _STRING.lastIndex;
      return JSON.parse(match[0]);
    }
    // Find what is wrong, scanning from the opening quote.
    const start = this.#i;
    for (let i = start + 1; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === "\\") {
        const escape = this.text.slice(i, i + 6);
        if (!/^\\(["\\/bfnrt]|u[0-9A-Fa-f]{4})/.test(escape)) {
          this.#i = i;
          throw this.#fail(`invalid escape ${JSON.stringify(escape.slice(0, 2))} in a string`);
        }
        i += escape[1] === "u" ? 5 : 1;
      } else if (c < " ") {
        this.#i = i;
        throw this.#fail(
          c === "\n" || c === "\r"
            ? "unterminated string (a line break in a string must be written \\n)"
            : `a control character in a string must be escaped, as ${
              JSON.stringify(c).slice(1, -1)
            }`,
        );
      }
    }
    this.#i = start;
    throw this.#fail("unterminated string");
  }

  #number(): number {
    _NUMBER.lastIndex = this.#i;
    const match = _NUMBER.exec(this.text);
    _NUMBER_LIKE.lastIndex = this.#i;
    const token = _NUMBER_LIKE.exec(this.text)?.[0] ?? "";
    if (!match || match[0].length !== token.length) {
      throw this.#fail(`invalid number ${JSON.stringify(token)}`);
    }
    this.#i += token.length;
    return Number(token);
  }

  #skipSpace(): void {
    while (this.#i < this.text.length && " \t\n\r".includes(this.text[this.#i])) this.#i++;
  }

  #wordAt(i: number): boolean {
    return i < this.text.length && /[A-Za-z0-9_$]/.test(this.text[i]);
  }

  /** The text at the current position, as quoted in errors. */
  #next(): string {
    if (this.#i >= this.text.length) return "the end of the file";
    _WORD.lastIndex = this.#i;
    const word = _WORD.exec(this.text)?.[0] ?? this.text[this.#i];
    return JSON.stringify(word.length > 20 ? `${word.slice(0, 20)}…` : word);
  }

  #fail(reason: string): JsonSyntaxError {
    return new JsonSyntaxError(reason, _position(this.text, this.#i));
  }
}

function _position(text: string, offset: number): JsonPosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}
