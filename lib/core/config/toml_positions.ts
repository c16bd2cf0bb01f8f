/**
 * Where keys and tables are defined in a TOML document.
 *
 * smol-toml reports positions only for syntax errors; validation errors ("unknown key",
 * "must be an integer") need the position of a key in a document that parsed fine. This is
 * a small scanner for that: it understands enough TOML (comments, quoted and dotted keys,
 * every string form, arrays, inline tables) to find where each key starts, and assumes the
 * document is valid.
 *
 * @module
 */

/** A 1-based line and column in a text (columns count UTF-16 code units, like smol-toml). */
export interface TomlPosition {
  line: number;
  column: number;
}

/** The positions found by {@linkcode tomlPositions}. */
export interface TomlPositions {
  /**
   * Where the key or table at `path` is first defined: the `[` of a `[table]` header, or the
   * first character of a key (`a` in `a.b = 1` for both `["a"]` and `["a", "b"]`).
   * `undefined` when the document does not define it.
   */
  get(path: readonly string[]): TomlPosition | undefined;
}

/**
 * Scan a valid TOML document for the position of every table header and key.
 *
 * ```ts
 * const positions = tomlPositions('[app]\nexecutable = "x"\n');
 * positions.get(["app", "executable"]); // { line: 2, column: 1 }
 * ```
 */
export function tomlPositions(text: string): TomlPositions {
  const offsets = new Map<string, number>();
  new _Scanner(text, offsets).document();
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") lineStarts.push(i + 1);
  }
  return {
    get(path) {
      const offset = offsets.get(JSON.stringify(path));
      if (offset === undefined) return undefined;
      let low = 0;
      let high = lineStarts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (lineStarts[middle] <= offset) low = middle;
        else high = middle - 1;
      }
      return { line: low + 1, column: offset - lineStarts[low] + 1 };
    },
  };
}

const _BARE_KEY = /[A-Za-z0-9_-]/;
const _ESCAPE = /\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)/gs;
const _SIMPLE_ESCAPES: Record<string, string> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\x1b",
  '"': '"',
  "\\": "\\",
};

class _Scanner {
  #i = 0;
  constructor(readonly text: string, readonly offsets: Map<string, number>) {}

  document(): void {
    const text = this.text;
    let table: string[] = [];
    while (true) {
      this.#skipBlank(true);
      if (this.#i >= text.length) return;
      const start = this.#i;
      if (text[this.#i] === "[") {
        const double = text[this.#i + 1] === "[";
        this.#i += double ? 2 : 1;
        table = this.#keyPath();
        this.#record(table, start);
        this.#i += double ? 2 : 1;
      } else {
        const path = [...table, ...this.#keyPath()];
        this.#record(path, start);
        this.#skipBlank(false);
        this.#i++; // "="
        this.#skipBlank(false);
        this.#value(path);
      }
      this.#skipLine();
    }
  }

  /** Remember where `path` and each of its prefixes is first seen. */
  #record(path: readonly string[], offset: number): void {
    for (let n = 1; n <= path.length; n++) {
      const key = JSON.stringify(path.slice(0, n));
      if (!this.offsets.has(key)) this.offsets.set(key, offset);
    }
  }

  /** Skip spaces and tabs; with `newlines`, also line breaks and comments. */
  #skipBlank(newlines: boolean): void {
    const text = this.text;
    while (this.#i < text.length) {
      const c = text[this.#i];
      if (c === " " || c === "\t") this.#i++;
      else if (newlines && (c === "\n" || c === "\r")) this.#i++;
      else if (newlines && c === "#") this.#skipLine();
      else return;
    }
  }

  /** Move to the start of the next line. */
  #skipLine(): void {
    const end = this.text.indexOf("\n", this.#i);
    this.#i = end === -1 ? this.text.length : end + 1;
  }

  #keyPath(): string[] {
    const parts: string[] = [];
    while (true) {
      this.#skipBlank(false);
      parts.push(this.#keyPart());
      this.#skipBlank(false);
      if (this.text[this.#i] !== ".") return parts;
      this.#i++;
    }
  }

  #keyPart(): string {
    const text = this.text;
    const quote = text[this.#i];
    if (quote === '"' || quote === "'") {
      const start = this.#i + 1;
      this.#skipString();
      const raw = text.slice(start, this.#i - 1);
      return quote === "'" ? raw : raw.replace(_ESCAPE, _unescape);
    }
    const start = this.#i;
    while (this.#i < text.length && _BARE_KEY.test(text[this.#i])) this.#i++;
    return text.slice(start, this.#i);
  }

  /** Skip a string of any of the four kinds, starting at its opening quote. */
  #skipString(): void {
    const text = this.text;
    const quote = text[this.#i];
    const escapes = quote === '"';
    if (text.startsWith(quote.repeat(3), this.#i)) {
      this.#i += 3;
      while (this.#i < text.length && !text.startsWith(quote.repeat(3), this.#i)) {
        this.#i += escapes && text[this.#i] === "\\" ? 2 : 1;
      }
      this.#i += 3;
      // Up to two quotes right before the closing delimiter belong to the content.
      for (let n = 0; n < 2 && text[this.#i] === quote; n++) this.#i++;
      return;
    }
    this.#i++;
    while (this.#i < text.length && text[this.#i] !== quote) {
      this.#i += escapes && text[this.#i] === "\\" ? 2 : 1;
    }
    this.#i++;
  }

  #value(path: readonly string[]): void {
    const text = this.text;
    const c = text[this.#i];
    if (c === '"' || c === "'") {
      this.#skipString();
    } else if (c === "[") {
      this.#i++;
      let index = 0;
      while (true) {
        this.#skipBlank(true);
        if (this.#i >= text.length) return;
        if (text[this.#i] === "]") break;
        if (text[this.#i] === ",") {
          this.#i++;
          continue;
        }
        this.#value([...path, String(index++)]);
      }
      this.#i++;
    } else if (c === "{") {
      this.#i++;
      while (true) {
        this.#skipBlank(true);
        if (this.#i >= text.length) return;
        if (text[this.#i] === "}") break;
        if (text[this.#i] === ",") {
          this.#i++;
          continue;
        }
        const start = this.#i;
        const key = [...path, ...this.#keyPath()];
        this.#record(key, start);
        this.#skipBlank(false);
        this.#i++; // "="
        this.#skipBlank(false);
        this.#value(key);
      }
      this.#i++;
    } else {
      // Numbers, booleans, dates and times: none contains a delimiter, though a
      // date-time may contain a space.
      while (this.#i < text.length && !",]}#\r\n".includes(text[this.#i])) this.#i++;
    }
  }
}

function _unescape(_match: string, code: string): string {
  if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
  return _SIMPLE_ESCAPES[code] ?? code;
}
