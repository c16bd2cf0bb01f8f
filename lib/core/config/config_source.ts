/**
 * The text of a config being read, and where it came from: the file as the user named it
 * (quoted in every error), its folder (what relative paths are relative to), its language,
 * and the environment it is read in.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { dirname, join, resolve } from "../posix_path.ts";
import { ConfigError } from "../errors.ts";
import { JsonSyntaxError, parseJsonDocument } from "./json_document.ts";
import { tomlPositions } from "./toml_positions.ts";
import { showTomlValue } from "./describe_field.ts";
import { isTable } from "./coerce_field.ts";
import { defaultStateDir } from "./state_dir.ts";

/** The languages a config can be written in. */
export type ConfigFormat = "toml" | "json";

/** The format a config named `file` is read in: JSON for a name ending in `.json`, else TOML. */
export function configFormat(file: string): ConfigFormat {
  return /\.json$/i.test(file) ? "json" : "toml";
}

/** Where a config's text comes from and how it is read. */
export interface ConfigSourceOptions {
  /** The file as the user wrote it. */
  file: string;
  /** How the text is written. Default: from `file`'s name ({@linkcode configFormat}). */
  format?: ConfigFormat;
  /** Folder a relative `file` is relative to. Default `Deno.cwd()`. */
  cwd?: string;
  /** Environment lookup. Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** User id wrapp runs as. Default `Deno.uid()` (asked only when needed). */
  uid?: number | null;
}

/** A config's text, its origin, and how to point at one of its keys in an error. */
export class ConfigSource {
  /** The text, without a byte order mark. */
  readonly text: string;
  /** The file as the user wrote it. */
  readonly file: string;
  /** Its absolute path. */
  readonly absoluteFile: string;
  /** Its folder: relative paths in the config are relative to it. */
  readonly folder: string;
  /** The language it is written in. */
  readonly format: ConfigFormat;
  /** Environment lookup. */
  readonly env: (name: string) => string | undefined;
  readonly #uid: number | null | undefined;
  #positions?: { get(path: readonly string[]): { line: number; column: number } | undefined };

  /** The config `text` read from `options.file`. */
  constructor(text: string, options: ConfigSourceOptions) {
    this.text = text;
    this.file = options.file;
    this.format = options.format ?? configFormat(options.file);
    this.absoluteFile = resolve(options.cwd ?? Deno.cwd(), options.file);
    this.folder = dirname(this.absoluteFile);
    this.env = options.env ?? ((name) => Deno.env.get(name));
    this.#uid = options.uid;
  }

  /** The user id wrapp runs as. */
  get uid(): number | null {
    return this.#uid === undefined ? Deno.uid() : this.#uid;
  }

  /** Where the key at `path` is written (line and column), if the document has it. */
  position(path: readonly string[]): { line: number; column: number } | undefined {
    this.#positions ??= tomlPositions(this.text);
    return this.#positions.get(path);
  }

  /** The document: TOML, or JSON; a syntax error is a ConfigError naming its line and column. */
  parse(): Record<string, unknown> {
    if (this.format === "json") return this.#parseJson();
    try {
      return parse(this.text);
    } catch (error) {
      if (!(error instanceof TomlError)) throw error;
      const reason = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      // A JSON config under another name: say why it was read as TOML.
      const hint = this.text.trimStart().startsWith("{")
        ? ' (read as TOML: a JSON config must have a name ending in ".json")'
        : "";
      throw new ConfigError(
        `Invalid config "${this.file}" at line ${error.line}, column ${error.column}: ${reason}${hint}`,
        { cause: error },
      );
    }
  }

  #parseJson(): Record<string, unknown> {
    let document;
    try {
      document = parseJsonDocument(this.text);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      throw new ConfigError(
        `Invalid config "${this.file}" at line ${error.line}, column ${error.column}: invalid JSON: ${error.reason}`,
        { cause: error },
      );
    }
    this.#positions = document.positions;
    if (!isTable(document.value)) {
      throw this.error(
        `a JSON config must be an object such as {"app": {"executable": "…"}}, got ${
          this.show(document.value)
        }`,
      );
    }
    return document.value;
  }

  /** `key` is a comment: in JSON, a key starting with "_" (the Go wrapp's convention). */
  isComment(key: string): boolean {
    return this.format === "json" && key.startsWith("_");
  }

  /** A value as error messages quote it, in the config's own language. */
  show(value: unknown): string {
    if (this.format === "toml") return showTomlValue(value);
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }

  /** `[local] dir` when the config leaves it out: the state folder of `streamName`. */
  defaultLocalDir(streamName: string, enabled: boolean): string {
    const uid = this.uid;
    const dir = defaultStateDir(streamName, { env: (name) => this.env(name), uid });
    if (dir !== undefined) return dir;
    if (!enabled) return join("/var/lib/wrapp", streamName); // unused
    throw this.error(
      `cannot choose a folder for the local trace: set "dir" in [local], or $XDG_STATE_HOME or $HOME`,
    );
  }

  /** A ConfigError positioned at the first of `paths` the document defines. */
  error(message: string, ...paths: string[][]): ConfigError {
    let where = "";
    for (const path of paths) {
      const position = this.position(path);
      if (position) {
        where = ` at line ${position.line}, column ${position.column}`;
        break;
      }
    }
    return new ConfigError(`Invalid config "${this.file}"${where}: ${message}`);
  }
}
