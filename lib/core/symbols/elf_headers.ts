/**
 * The program and section header tables of an ELF file: where each table is (from the
 * ELF header), the `PT_LOAD` segments, and the section headers. Only the tables are read,
 * never the whole file.
 *
 * @module
 */

import type { ByteSource } from "./build_id.ts";

/** How an ELF file's structures are laid out. */
export interface ElfLayout {
  /** ELFCLASS64 (else ELFCLASS32). */
  readonly is64: boolean;
  /** Little-endian (else big-endian). */
  readonly littleEndian: boolean;
}

/** Where a header table is, as the ELF header says. */
export interface ElfHeaderTable {
  /** File offset of the table; 0 when there is none. */
  readonly offset: number;
  /** Size of one entry in bytes. */
  readonly entrySize: number;
  /** Number of entries; 0 for sections can mean extended numbering. */
  readonly count: number;
}

/** A `PT_LOAD` segment: file bytes `[offset, offset + filesz)` mapped at `vaddr`. */
export interface LoadSegment {
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

/** The fields of a section header that symbol reading needs. */
export interface SectionHeader {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  /** Index of the linked section (a symbol table's string table). */
  readonly link: number;
  readonly entsize: number;
}

const _PT_LOAD = 1;
/** More section headers than this are not read (a corrupt count, not a real file). */
const _MAX_SECTIONS = 65535;

/** The program and section header tables named by the ELF header (its first 64 bytes). */
export function elfHeaderTables(
  header: Uint8Array,
  { is64, littleEndian }: ElfLayout,
): { programHeaders: ElfHeaderTable; sectionHeaders: ElfHeaderTable } {
  const r = elfFieldReader(header, littleEndian);
  return {
    programHeaders: {
      offset: is64 ? r.u64(32) : r.u32(28),
      entrySize: r.u16(is64 ? 54 : 42),
      count: r.u16(is64 ? 56 : 44),
    },
    sectionHeaders: {
      offset: is64 ? r.u64(40) : r.u32(32),
      entrySize: r.u16(is64 ? 58 : 46),
      count: r.u16(is64 ? 60 : 48),
    },
  };
}

/** The `PT_LOAD` segments of the program header table; none when there is no table. */
export async function readLoadSegments(
  source: ByteSource,
  { is64, littleEndian }: ElfLayout,
  { offset, entrySize, count }: ElfHeaderTable,
): Promise<LoadSegment[]> {
  const loads: LoadSegment[] = [];
  if (offset <= 0 || count <= 0 || entrySize < (is64 ? 56 : 32)) return loads;
  const bytes = await source.read(offset, count * entrySize);
  const r = elfFieldReader(bytes, littleEndian);
  for (let i = 0; (i + 1) * entrySize <= bytes.length; i++) {
    const at = i * entrySize;
    if (r.u32(at) !== _PT_LOAD) continue;
    loads.push(
      is64
        ? { offset: r.u64(at + 8), vaddr: r.u64(at + 16), filesz: r.u64(at + 32) }
        : { offset: r.u32(at + 4), vaddr: r.u32(at + 8), filesz: r.u32(at + 16) },
    );
  }
  return loads;
}

/** The section header table (at most 65535 sections); none when there is no table. */
export async function readSectionHeaders(
  source: ByteSource,
  { is64, littleEndian }: ElfLayout,
  { offset, entrySize, count }: ElfHeaderTable,
): Promise<SectionHeader[]> {
  if (offset <= 0 || entrySize < (is64 ? 64 : 40)) return [];
  if (count === 0) {
    // Extended numbering: the count lives in section 0's sh_size.
    const first = elfFieldReader(await source.read(offset, entrySize), littleEndian);
    count = is64 ? first.u64(32) : first.u32(20);
  }
  const bytes = await source.read(offset, Math.min(count, _MAX_SECTIONS) * entrySize);
  const r = elfFieldReader(bytes, littleEndian);
  const sections: SectionHeader[] = [];
  for (let i = 0; (i + 1) * entrySize <= bytes.length; i++) {
    const at = i * entrySize;
    sections.push(
      is64
        ? {
          type: r.u32(at + 4),
          offset: r.u64(at + 24),
          size: r.u64(at + 32),
          link: r.u32(at + 40),
          entsize: r.u64(at + 56),
        }
        : {
          type: r.u32(at + 4),
          offset: r.u32(at + 16),
          size: r.u32(at + 20),
          link: r.u32(at + 24),
          entsize: r.u32(at + 36),
        },
    );
  }
  return sections;
}

/** Fixed-width unsigned integer reads from `bytes` in the file's byte order. */
export interface ElfFieldReader {
  u16(at: number): number;
  u32(at: number): number;
  /** A 64-bit field as a number; offsets and sizes beyond 2^53 are not real files. */
  u64(at: number): number;
}

/** An {@linkcode ElfFieldReader} over `bytes`. */
export function elfFieldReader(bytes: Uint8Array, littleEndian: boolean): ElfFieldReader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u16: (at: number) => view.getUint16(at, littleEndian),
    u32: (at: number) => view.getUint32(at, littleEndian),
    u64: (at: number) => Number(view.getBigUint64(at, littleEndian)),
  };
}
