/**
 * Function symbols of an ELF file (`.symtab` and `.dynsym`), for turning an offset in a
 * mapped executable or library into the function that contains it.
 *
 * The ELF identification, byte order and build-id come from
 * {@linkcode elfInfo} in `lib/core/symbols/build_id.ts`, the section and program headers
 * from `lib/core/symbols/elf_headers.ts`; this module reads the symbol tables. Only headers
 * and the symbol and string tables are read, never the whole file. A stripped file (only
 * `.dynsym`, as Debian ships its libraries) gets its `.symtab` from a separate debug file
 * found by build-id under `/usr/lib/debug/.build-id/` when one is installed
 * (`apt-get install libc6-dbg` and the like).
 *
 * Addresses: symbols hold virtual addresses of the ELF's own layout; a process maps file
 * offsets. {@linkcode ElfSymbolTable.vaddrOfOffset} converts through the `PT_LOAD`
 * segments.
 *
 * @module
 */

import { type ByteSource, bytesSource, elfInfo, fileSource } from "./build_id.ts";
import {
  elfFieldReader,
  elfHeaderTables,
  type ElfLayout,
  type LoadSegment,
  readLoadSegments,
  readSectionHeaders,
} from "./elf_headers.ts";
import { describeCause, WrappError } from "../errors.ts";

/** A function symbol found for an address. */
export interface ElfSymbol {
  /** The name as stored (mangled for C++ and Rust). */
  readonly name: string;
  /** Virtual address of the function's first instruction. */
  readonly vaddr: number;
  /** Size in bytes (0 when the symbol does not say). */
  readonly size: number;
  /** Offset of the function's first instruction in the file, when a `PT_LOAD` segment holds it. */
  readonly fileOffset?: number;
}

/** The function symbols of one ELF file. */
export interface ElfSymbolTable {
  /** The file read (the name given to {@linkcode elfSymbols}). */
  readonly path: string;
  /** GNU build-id as lowercase hex, when the file has one. */
  readonly buildId?: string;
  /** How many function symbols are known. */
  readonly size: number;
  /** Whether the symbols include a full `.symtab` (not only the exported `.dynsym`). */
  readonly hasSymtab: boolean;
  /** The virtual address the file offset is loaded at, or `undefined` outside every `PT_LOAD`. */
  vaddrOfOffset(offset: number): number | undefined;
  /** The function containing virtual address `vaddr`, or `undefined`. */
  lookup(vaddr: number): ElfSymbol | undefined;
}

/** Options for {@linkcode readElfSymbols}. */
export interface ReadElfSymbolsOptions {
  /** Folders searched for `.build-id/xx/yyyy.debug` when the file has no `.symtab`. Default `["/usr/lib/debug"]`. */
  debugDirs?: readonly string[];
}

const _SHT_SYMTAB = 2;
const _SHT_DYNSYM = 11;
const _STT_FUNC = 2;
const _STT_GNU_IFUNC = 10;
const _SHN_UNDEF = 0;
const _EM_ARM = 40;
/** A symbol without a size covers at most this much when the next symbol is further away. */
const _MAX_UNSIZED_SPAN = 1 << 16;
/** Symbol tables larger than this are not read (a corrupt header, not a real file). */
const _MAX_TABLE_BYTES = 1 << 30;

/**
 * Read the function symbols of the ELF file at `path` (`openPath` when given, e.g. a
 * `/proc/<pid>/root/…` or `/proc/<pid>/map_files/…` path to the same file). Throws
 * {@linkcode WrappError} when it cannot be read and `SyntaxError` when it is not ELF.
 */
export async function readElfSymbols(
  path: string,
  options: ReadElfSymbolsOptions & { openPath?: string } = {},
): Promise<ElfSymbolTable> {
  const openPath = options.openPath ?? path;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(openPath, { read: true });
  } catch (error) {
    throw new WrappError(`Cannot read "${openPath}": ${describeCause(error)}`, { cause: error });
  }
  try {
    const table = await elfSymbols(fileSource(file), path);
    if (table.hasSymtab || table.buildId === undefined) return table;
    for (const dir of options.debugDirs ?? ["/usr/lib/debug"]) {
      const debugPath = `${dir}/.build-id/${table.buildId.slice(0, 2)}/${
        table.buildId.slice(2)
      }.debug`;
      let debugFile: Deno.FsFile;
      try {
        debugFile = await Deno.open(debugPath, { read: true });
      } catch {
        continue;
      }
      try {
        const debug = await elfSymbols(fileSource(debugFile), debugPath);
        return _merge(table, debug);
      } catch {
        // A broken debug file is no reason to lose the symbols we have.
      } finally {
        debugFile.close();
      }
    }
    return table;
  } finally {
    file.close();
  }
}

/** Parse the function symbols from ELF bytes; `name` is used in messages and as `path`. */
export async function elfSymbols(source: ByteSource, name = "<bytes>"): Promise<ElfSymbolTable> {
  const info = await elfInfo(source, name);
  const layout: ElfLayout = { is64: info.bits === 64, littleEndian: info.littleEndian };
  const tables = elfHeaderTables(await source.read(0, 64), layout);
  const loads = await readLoadSegments(source, layout, tables.programHeaders);
  const sections = await readSectionHeaders(source, layout, tables.sectionHeaders);
  const symbols: _RawSymbol[] = [];
  const strings: Uint8Array[] = [];
  let stringBase = 0;
  let hasSymtab = false;
  for (const section of sections) {
    if (section.type !== _SHT_SYMTAB && section.type !== _SHT_DYNSYM) continue;
    const strtab = sections[section.link];
    if (!strtab || section.size > _MAX_TABLE_BYTES || strtab.size > _MAX_TABLE_BYTES) continue;
    const table = await source.read(section.offset, section.size);
    const names = await source.read(strtab.offset, strtab.size);
    const found = _functionSymbols(table, section.entsize, {
      names,
      nameBase: stringBase,
      layout,
      thumb: info.machine === _EM_ARM,
    });
    for (const symbol of found) symbols.push(symbol);
    if (found.length > 0 && section.type === _SHT_SYMTAB) hasSymtab = true;
    strings.push(names);
    stringBase += names.length;
  }
  return new _Table(name, info.buildId, loads, symbols, _concat(strings), hasSymtab);
}

/**
 * The defined function symbols of one symbol table (entry 0 skipped), named by offset
 * into `names`, their string table, plus `nameBase`.
 */
function _functionSymbols(
  table: Uint8Array,
  entsize: number,
  { names, nameBase, layout: { is64, littleEndian }, thumb }: {
    names: Uint8Array;
    nameBase: number;
    layout: ElfLayout;
    /** 32-bit ARM: function addresses carry the Thumb bit. */
    thumb: boolean;
  },
): _RawSymbol[] {
  entsize ||= is64 ? 24 : 16;
  const t = elfFieldReader(table, littleEndian);
  const symbols: _RawSymbol[] = [];
  for (let at = entsize; at + entsize <= table.length; at += entsize) {
    const nameAt = t.u32(at);
    const infoByte = is64 ? table[at + 4] : table[at + 12];
    const shndx = t.u16(is64 ? at + 6 : at + 14);
    const type = infoByte & 0xf;
    if ((type !== _STT_FUNC && type !== _STT_GNU_IFUNC) || shndx === _SHN_UNDEF) continue;
    let value = is64 ? t.u64(at + 8) : t.u32(at + 4);
    const size = is64 ? t.u64(at + 16) : t.u32(at + 8);
    if (thumb) value -= value % 2; // Thumb bit
    if (nameAt === 0 || nameAt >= names.length) continue;
    symbols.push({ vaddr: value, size, bind: infoByte >> 4, name: nameBase + nameAt });
  }
  return symbols;
}

/** Symbols of ELF bytes in memory (tests). */
export function elfSymbolsFromBytes(bytes: Uint8Array, name?: string): Promise<ElfSymbolTable> {
  return elfSymbols(bytesSource(bytes), name);
}

interface _RawSymbol {
  readonly vaddr: number;
  readonly size: number;
  readonly bind: number;
  /** Offset of the name in the concatenated string tables. */
  readonly name: number;
}

/** Binding preference when several names share an address: GLOBAL, then WEAK, then LOCAL. */
function _bindRank(bind: number): number {
  return bind === 1 ? 0 : bind === 2 ? 1 : 2;
}

class _Table implements ElfSymbolTable {
  readonly path: string;
  readonly buildId?: string;
  readonly hasSymtab: boolean;
  /** `PT_LOAD` segments, kept so a debug file's symbols can use the mapped file's layout. */
  readonly loads: readonly LoadSegment[];
  readonly #starts: Float64Array;
  readonly #ends: Float64Array;
  readonly #names: Uint32Array;
  readonly #strings: Uint8Array;
  readonly #decoded = new Map<number, string>();
  /** Raw symbols, kept so two tables can be merged. */
  readonly raw: readonly _RawSymbol[];
  readonly rawStrings: Uint8Array;

  constructor(
    path: string,
    buildId: string | undefined,
    loads: readonly LoadSegment[],
    symbols: _RawSymbol[],
    strings: Uint8Array,
    hasSymtab: boolean,
  ) {
    this.path = path;
    this.buildId = buildId;
    this.hasSymtab = hasSymtab;
    this.loads = loads;
    this.#strings = strings;
    this.raw = symbols;
    this.rawStrings = strings;
    symbols.sort((a, b) =>
      a.vaddr - b.vaddr || _bindRank(a.bind) - _bindRank(b.bind) || b.size - a.size
    );
    // One entry per start address (the preferred name); an unsized symbol ends at the next.
    const unique = symbols.filter((s, i) => i === 0 || s.vaddr !== symbols[i - 1].vaddr);
    this.#starts = new Float64Array(unique.length);
    this.#ends = new Float64Array(unique.length);
    this.#names = new Uint32Array(unique.length);
    for (let i = 0; i < unique.length; i++) {
      const symbol = unique[i];
      const next = i + 1 < unique.length ? unique[i + 1].vaddr : Infinity;
      this.#starts[i] = symbol.vaddr;
      this.#ends[i] = symbol.size > 0
        ? symbol.vaddr + symbol.size
        : Math.min(next, symbol.vaddr + _MAX_UNSIZED_SPAN);
      this.#names[i] = symbol.name;
    }
  }

  get size(): number {
    return this.#starts.length;
  }

  vaddrOfOffset(offset: number): number | undefined {
    for (const load of this.loads) {
      if (offset >= load.offset && offset < load.offset + load.filesz) {
        return offset - load.offset + load.vaddr;
      }
    }
    return undefined;
  }

  lookup(vaddr: number): ElfSymbol | undefined {
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= vaddr) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (found < 0 || vaddr >= this.#ends[found]) return undefined;
    const start = starts[found];
    let fileOffset: number | undefined;
    for (const load of this.loads) {
      if (start >= load.vaddr && start < load.vaddr + load.filesz) {
        fileOffset = start - load.vaddr + load.offset;
        break;
      }
    }
    return {
      name: this.#name(this.#names[found]),
      vaddr: start,
      size: this.#ends[found] - start,
      fileOffset,
    };
  }

  #name(at: number): string {
    let name = this.#decoded.get(at);
    if (name === undefined) {
      let end = at;
      while (end < this.#strings.length && this.#strings[end] !== 0) end++;
      name = new TextDecoder().decode(this.#strings.subarray(at, end));
      this.#decoded.set(at, name);
    }
    return name;
  }
}

/** The stripped file's layout and build-id with the symbols of both files. */
function _merge(stripped: ElfSymbolTable, debug: ElfSymbolTable): ElfSymbolTable {
  const a = stripped as _Table;
  const b = debug as _Table;
  const shifted = b.raw.map((s) => ({ ...s, name: s.name + a.rawStrings.length }));
  return new _Table(
    a.path,
    a.buildId,
    a.loads,
    [...a.raw, ...shifted],
    _concat([a.rawStrings, b.rawStrings]),
    true,
  );
}

function _concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
