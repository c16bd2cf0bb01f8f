/**
 * Demangles C++ and Rust symbol names with `c++filt` from binutils, which reads
 * Itanium C++ (`_ZN3foo3barEv` → `foo::bar()`), legacy Rust (`_ZN…17h<hash>E` →
 * `crate::f::h<hash>`) and Rust v0 (`_RNv…` → `crate[…]::f`) names. Names are sent in
 * batches through one `c++filt` process and remembered. Without `c++filt` (or when it
 * fails), names stay as they are.
 *
 * @module
 */

import { findExecutable } from "../find_executable.ts";

/** Options for {@linkcode Demangler}. */
export interface DemanglerOptions {
  /** The c++filt binary: a path or a name looked up in PATH. Default `"c++filt"`. */
  cxxfilt?: string;
  /** Told once when c++filt is missing or fails. Default: nothing. */
  debug?: (message: string) => void;
}

/** Whether `name` is a mangled C++ or Rust name worth sending to c++filt. */
export function isMangled(name: string): boolean {
  return name.startsWith("_Z") || name.startsWith("_R") || name.startsWith("__Z");
}

/** Whether `name` (mangled or not) is Rust: v0 (`_R…`) or legacy with a `h<16 hex>` hash. */
export function isRustName(name: string): boolean {
  if (name.startsWith("_R")) return true;
  return /17h[0-9a-f]{16}E/.test(name) || /::h[0-9a-f]{16}(?:$|[^0-9a-zA-Z])/.test(name);
}

/** Demangles names through c++filt, with a cache. */
export class Demangler {
  readonly #cache = new Map<string, string>();
  readonly #debug: (message: string) => void;
  readonly #wanted: string;
  #path: Promise<string | undefined> | undefined;
  #broken = false;

  /** A demangler using `options.cxxfilt`. */
  constructor(options: DemanglerOptions = {}) {
    this.#wanted = options.cxxfilt ?? "c++filt";
    this.#debug = options.debug ?? (() => {});
  }

  /** The demangled name from the cache, or `undefined` when it has not been demangled yet. */
  cached(name: string): string | undefined {
    return isMangled(name) ? this.#cache.get(name) : name;
  }

  /** Demangle every name; returns the names in the same order. */
  async demangle(names: readonly string[]): Promise<string[]> {
    const missing = [...new Set(names.filter((n) => isMangled(n) && !this.#cache.has(n)))];
    if (missing.length > 0) {
      const results = await this.#run(missing);
      missing.forEach((name, i) => this.#cache.set(name, results?.[i] || name));
    }
    return names.map((name) => this.#cache.get(name) ?? name);
  }

  async #run(names: readonly string[]): Promise<string[] | undefined> {
    if (this.#broken) return undefined;
    this.#path ??= findExecutable(this.#wanted);
    const path = await this.#path;
    if (path === undefined) {
      this.#broken = true;
      this.#debug(`no "${this.#wanted}" in PATH: function names stay mangled (install binutils)`);
      return undefined;
    }
    try {
      const child = new Deno.Command(path, {
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const writer = child.stdin.getWriter();
      // Writing and reading at once: a large batch would fill both pipes otherwise.
      const [output] = await Promise.all([
        child.output(),
        writer.write(new TextEncoder().encode(names.join("\n") + "\n")).then(() => writer.close()),
      ]);
      const lines = new TextDecoder().decode(output.stdout).split("\n");
      if (!output.success || lines.length < names.length) throw new Error("unexpected output");
      return lines.slice(0, names.length);
    } catch (error) {
      this.#broken = true;
      this.#debug(`"${path}" failed (${error}): function names stay mangled`);
      return undefined;
    }
  }
}
