/**
 * Turns the code addresses of a profiled process's stacks into functions: the file and
 * offset from `/proc/<pid>/maps`, the function from the file's ELF symbols, the name
 * demangled, and a category telling the program's own code from system libraries.
 *
 * Everything is cached: the maps until an address falls outside every known mapping
 * (the process mapped a new library) or {@linkcode Symbolizer.refreshMaps} sees them
 * change; the symbol table of each file; the frame of each address. An address nothing
 * explains stays an address (`[unknown]`), with its mapping when it has one.
 *
 * Files are opened through `/proc/<pid>/root/…` while the process lives, so a process in
 * a container or chroot is symbolized against its own files, and a deleted or replaced
 * file through `/proc/<pid>/map_files/…`.
 *
 * @module
 */

import { basename } from "../posix_path.ts";
import { Demangler, isRustName } from "./demangle.ts";
import { readElfSymbols } from "./elf_symbols.ts";
import type { ElfSymbolTable } from "./elf_symbols.ts";
import { fileOffset, findMapping, type Mapping, parseProcMaps, readLiveMaps } from "./proc_maps.ts";

/**
 * Where a function comes from, with TezEdge's names: `nodeRust` and `nodeCpp` are the
 * profiled program's own code (Rust, or anything else), `systemLib` a system library or
 * the kernel's vDSO, `unknown` an address outside every mapping.
 */
export type FunctionCategory = "nodeRust" | "nodeCpp" | "systemLib" | "unknown";

/** One resolved stack frame. */
export interface ResolvedFrame {
  /** Identifies the function for merging tree nodes: same file and function, same key. */
  readonly key: string;
  /** The code address as unwound (a return address for every frame but the first). */
  readonly address: number;
  /** Base name of the mapped file (`libc.so.6`), a pseudo name (`[vdso]`, `[anon]`), or `[unknown]`. */
  readonly executable: string;
  /** Full path of the mapped file, the pseudo name, or `""`. */
  readonly path: string;
  /**
   * Offset in the file: of the function's first instruction when the function is known,
   * else of the address itself. For `[unknown]` frames, the address.
   */
  readonly offset: number;
  /** The demangled function name, when the symbols name one. */
  readonly functionName?: string;
  /** Own code or system library. */
  readonly category: FunctionCategory;
}

/** Library folders whose code is `systemLib`; everything else mapped from a file is the program's own. */
export const SYSTEM_PREFIXES: readonly string[] = Object.freeze([
  "/lib/",
  "/lib32/",
  "/lib64/",
  "/usr/lib/",
  "/usr/lib32/",
  "/usr/lib64/",
  "/usr/libexec/",
]);

/** Debian's multiarch cross libraries (`/usr/aarch64-linux-gnu/lib/`), e.g. under qemu-user. */
const _CROSS_LIB = /^\/usr\/[a-z0-9_]+-linux-gnu[a-z0-9_]*\/lib\//;

/** Options for {@linkcode Symbolizer}. */
export interface SymbolizerOptions {
  /** Where proc is mounted. Default `/proc`. */
  procDir?: string;
  /** Folders holding `.build-id/` debug files. Default `["/usr/lib/debug"]`. */
  debugDirs?: readonly string[];
  /** Demangler; default a new {@linkcode Demangler}. */
  demangler?: Demangler;
  /** Debug logger. */
  debug?: (message: string) => void;
  /**
   * Override for reading the maps text. Default: {@linkcode readLiveMaps} of `pid`, which
   * throws for a process that is gone or exiting.
   */
  readMaps?: () => Promise<string>;
}

/** Resolves addresses of one process. */
export class Symbolizer {
  /** The process. */
  readonly pid: number;
  readonly #procDir: string;
  readonly #debugDirs: readonly string[] | undefined;
  readonly #demangler: Demangler;
  readonly #debug: (message: string) => void;
  readonly #readMaps: () => Promise<string>;
  #mapsText = "";
  #maps: Mapping[] = [];
  #alive = true;
  readonly #frames = new Map<number, ResolvedFrame>();
  readonly #tables = new Map<string, Promise<ElfSymbolTable | undefined>>();
  readonly #failed = new Set<string>();

  /** A symbolizer for `pid`; call {@linkcode Symbolizer.refreshMaps} before the first use. */
  constructor(pid: number, options: SymbolizerOptions = {}) {
    this.pid = pid;
    this.#procDir = options.procDir ?? "/proc";
    this.#debugDirs = options.debugDirs;
    this.#demangler = options.demangler ?? new Demangler({ debug: options.debug });
    this.#debug = options.debug ?? (() => {});
    this.#readMaps = options.readMaps ?? (() => readLiveMaps(this.pid, this.#procDir));
  }

  /** The mappings currently known. */
  get mappings(): readonly Mapping[] {
    return this.#maps;
  }

  /**
   * Read the maps again. Returns whether they changed; when they did, frames resolved
   * from now on use the new maps (frames resolved before keep their names). A process
   * that is gone keeps its last maps.
   */
  async refreshMaps(): Promise<boolean> {
    if (!this.#alive) return false;
    let text: string;
    try {
      text = await this.#readMaps();
    } catch (error) {
      this.#alive = false;
      this.#debug(`cannot read the maps of pid ${this.pid} any more (${error}): keeping the last`);
      return false;
    }
    if (text === this.#mapsText) return false;
    this.#mapsText = text;
    this.#maps = parseProcMaps(text);
    this.#frames.clear();
    return true;
  }

  /**
   * Resolve stacks of addresses, innermost frame first (frame 0 is the exact instruction,
   * the others return addresses, looked up one byte earlier so a call at the end of a
   * function is not taken for the next function).
   */
  async resolveStacks(stacks: readonly (readonly number[])[]): Promise<ResolvedFrame[][]> {
    // Resolve every distinct (address, is-return) pair once.
    const wanted = new Set<number>();
    for (const stack of stacks) {
      stack.forEach((address, i) => wanted.add(_lookupKey(address, i > 0)));
    }
    let missing = [...wanted].filter((key) => !this.#frames.has(key));
    if (missing.some((key) => !findMapping(this.#maps, _lookupAddress(key)))) {
      // A library mapped since the last read; new maps forget the frames resolved before.
      if (await this.refreshMaps()) missing = [...wanted];
    }
    const raw: Array<{ key: number; frame: ResolvedFrame; mangled?: string }> = [];
    for (const key of missing) raw.push({ key, ...await this.#resolve(key) });
    const demangled = await this.#demangler.demangle(raw.map((r) => r.mangled ?? ""));
    raw.forEach((r, i) => {
      const frame = r.mangled === undefined ? r.frame : {
        ...r.frame,
        key: `${r.frame.path}\0${demangled[i]}`,
        functionName: demangled[i],
      };
      this.#frames.set(r.key, frame);
    });
    return stacks.map((stack) =>
      stack.map((address, i) => this.#frames.get(_lookupKey(address, i > 0))!)
    );
  }

  async #resolve(key: number): Promise<{ frame: ResolvedFrame; mangled?: string }> {
    const address = _address(key);
    const lookup = _lookupAddress(key);
    const mapping = findMapping(this.#maps, lookup);
    if (!mapping) {
      return {
        frame: {
          key: `?\0${address}`,
          address,
          executable: "[unknown]",
          path: "",
          offset: address,
          category: "unknown",
        },
      };
    }
    const pseudo = mapping.path === "" || mapping.path.startsWith("[");
    const path = mapping.path === "" ? "[anon]" : mapping.path;
    const offset = fileOffset(mapping, lookup);
    const system = pseudo || SYSTEM_PREFIXES.some((prefix) => path.startsWith(prefix)) ||
      _CROSS_LIB.test(path);
    const base: ResolvedFrame = {
      key: `${path}\0${offset}`,
      address,
      executable: pseudo ? path : basename(path),
      path,
      offset,
      category: system ? "systemLib" : "nodeCpp",
    };
    if (pseudo) return { frame: base };
    const table = await this.#table(mapping);
    const vaddr = table?.vaddrOfOffset(offset);
    const symbol = vaddr === undefined ? undefined : table!.lookup(vaddr);
    if (!symbol) return { frame: base };
    return {
      frame: {
        ...base,
        key: `${path}\0${symbol.name}`,
        offset: symbol.fileOffset ?? offset,
        functionName: symbol.name,
        category: system ? "systemLib" : isRustName(symbol.name) ? "nodeRust" : "nodeCpp",
      },
      mangled: symbol.name,
    };
  }

  #table(mapping: Mapping): Promise<ElfSymbolTable | undefined> {
    const id = `${mapping.dev}:${mapping.inode}:${mapping.path}`;
    let table = this.#tables.get(id);
    if (!table) {
      table = this.#load(mapping, id);
      this.#tables.set(id, table);
    }
    return table;
  }

  async #load(mapping: Mapping, id: string): Promise<ElfSymbolTable | undefined> {
    const candidates: string[] = [];
    if (this.#alive) {
      candidates.push(
        mapping.deleted
          ? `${this.#procDir}/${this.pid}/map_files/${mapping.start.toString(16)}-${
            mapping.end.toString(16)
          }`
          : `${this.#procDir}/${this.pid}/root${mapping.path}`,
      );
    }
    candidates.push(mapping.path);
    for (const openPath of candidates) {
      try {
        const table = await readElfSymbols(mapping.path, {
          openPath,
          debugDirs: this.#debugDirs,
        });
        this.#debug(
          `symbols of ${mapping.path}: ${table.size} functions${
            table.hasSymtab ? "" : " (exported only: stripped, no debug file)"
          }`,
        );
        return table;
      } catch (error) {
        if (openPath === mapping.path && !this.#failed.has(id)) {
          this.#failed.add(id);
          this.#debug(`no symbols for ${mapping.path}: ${error}`);
        }
      }
    }
    return undefined;
  }
}

/** The display name of a frame: the function, else `file+0xoffset`. */
export function frameLabel(frame: ResolvedFrame): string {
  return frame.functionName ?? `${frame.executable}+0x${frame.offset.toString(16)}`;
}

// Addresses are below 2^53; a key doubles the address and adds 1 for a return address.
function _lookupKey(address: number, isReturn: boolean): number {
  return address * 2 + (isReturn ? 1 : 0);
}

function _address(key: number): number {
  return Math.floor(key / 2);
}

function _lookupAddress(key: number): number {
  const address = _address(key);
  return key % 2 === 1 && address > 0 ? address - 1 : address;
}
