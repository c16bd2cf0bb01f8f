/**
 * The GNU build-id of an ELF file, read by parsing its headers and notes directly (no
 * `readelf`/`file` needed on the device). It identifies the exact build that crashed, so a
 * backtrace can be symbolized later against the matching debug file.
 *
 * 32- and 64-bit, little- and big-endian ELF are read; the build-id is looked for in
 * `PT_NOTE` segments first, then in `SHT_NOTE` sections (object files, odd linkers). Only
 * the headers and note data are read, never the whole file.
 *
 * @module
 */

import { describeCause, WrappError } from "../errors.ts";
import { elfFieldReader } from "./elf_headers.ts";

/** What {@linkcode readElfInfo} reports. */
export interface ElfInfo {
  /** 32 or 64 (EI_CLASS). */
  bits: 32 | 64;
  /** Byte order (EI_DATA). */
  littleEndian: boolean;
  /** `e_type`: 2 executable, 3 shared object / PIE, 4 core. */
  type: number;
  /** `e_machine`: 62 x86_64, 183 aarch64, 40 arm, 3 i386. */
  machine: number;
  /** A readable name for `machine`: `x86_64`, `aarch64`, or `machine 243`. */
  machineName: string;
  /** The GNU build-id as lowercase hex, when the file has one. */
  buildId?: string;
}

/** Random access to the bytes of a file (or of a buffer, in tests). */
export interface ByteSource {
  /** Bytes `[offset, offset + length)`; shorter at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

const _ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const _PT_NOTE = 4;
const _SHT_NOTE = 7;
const _NT_GNU_BUILD_ID = 3;
/** Notes larger than this are not build-id notes; skip rather than read megabytes. */
const _MAX_NOTE_BYTES = 1 << 20;
const _MAX_HEADERS = 4096;

const _MACHINES: Readonly<Record<number, string>> = {
  3: "i386",
  8: "mips",
  20: "ppc",
  21: "ppc64",
  22: "s390",
  40: "arm",
  62: "x86_64",
  183: "aarch64",
  243: "riscv",
};

/**
 * Read the ELF header and the GNU build-id of `path`. Throws {@linkcode WrappError} when
 * the file cannot be read (`Cannot read "/x": permission denied`) and `SyntaxError` when
 * it is not an ELF file or its headers are cut short.
 */
export async function readElfInfo(path: string): Promise<ElfInfo> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new WrappError(`Cannot read "${path}": ${describeCause(error)}`, { cause: error });
  }
  try {
    return await elfInfo(fileSource(file), path);
  } finally {
    file.close();
  }
}

/** The GNU build-id of `path` as lowercase hex, or `undefined` when it has none. Throws like {@linkcode readElfInfo}. */
export async function readBuildId(path: string): Promise<string | undefined> {
  return (await readElfInfo(path)).buildId;
}

/** A {@linkcode ByteSource} over an open file. */
export function fileSource(file: Deno.FsFile): ByteSource {
  return {
    async read(offset, length) {
      const buffer = new Uint8Array(length);
      await file.seek(offset, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < length) {
        const n = await file.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      return buffer.subarray(0, filled);
    },
  };
}

/** A {@linkcode ByteSource} over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
  };
}

/** Parse the ELF header and find the build-id; `name` is used in error messages. */
export async function elfInfo(source: ByteSource, name = "<bytes>"): Promise<ElfInfo> {
  const ident = await source.read(0, 64);
  if (ident.length < 16 || _ELF_MAGIC.some((b, i) => ident[i] !== b)) {
    throw new SyntaxError(`Not an ELF file "${name}": no ELF magic number`);
  }
  const elfClass = ident[4];
  const data = ident[5];
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) {
    throw new SyntaxError(
      `Invalid ELF file "${name}": unknown class ${elfClass} or byte order ${data}`,
    );
  }
  const bits = elfClass === 2 ? 64 : 32;
  const littleEndian = data === 1;
  if (ident.length < (bits === 64 ? 64 : 52)) {
    throw new SyntaxError(`Invalid ELF file "${name}": the header is cut short`);
  }
  const header = elfFieldReader(ident, littleEndian);
  const type = header.u16(16);
  const machine = header.u16(18);
  const info: ElfInfo = {
    bits,
    littleEndian,
    type,
    machine,
    machineName: _MACHINES[machine] ?? `machine ${machine}`,
  };
  const phoff = bits === 64 ? header.u64(32) : header.u32(28);
  const shoff = bits === 64 ? header.u64(40) : header.u32(32);
  const phentsize = header.u16(bits === 64 ? 54 : 42);
  const phnum = header.u16(bits === 64 ? 56 : 44);
  const shentsize = header.u16(bits === 64 ? 58 : 46);
  const shnum = header.u16(bits === 64 ? 60 : 48);

  const notes: Array<{ offset: number; size: number; align: number }> = [];
  if (phoff > 0 && phnum > 0 && phnum <= _MAX_HEADERS && phentsize >= (bits === 64 ? 56 : 32)) {
    const table = await source.read(phoff, phnum * phentsize);
    const reader = elfFieldReader(table, littleEndian);
    for (let i = 0; i < phnum && (i + 1) * phentsize <= table.length; i++) {
      const at = i * phentsize;
      if (reader.u32(at) !== _PT_NOTE) continue;
      notes.push(
        bits === 64
          ? { offset: reader.u64(at + 8), size: reader.u64(at + 32), align: reader.u64(at + 48) }
          : { offset: reader.u32(at + 4), size: reader.u32(at + 16), align: reader.u32(at + 28) },
      );
    }
  }
  info.buildId = await _buildIdIn(source, notes, littleEndian);
  if (info.buildId !== undefined) return info;

  if (shoff > 0 && shnum > 0 && shnum <= _MAX_HEADERS && shentsize >= (bits === 64 ? 64 : 40)) {
    const table = await source.read(shoff, shnum * shentsize);
    const reader = elfFieldReader(table, littleEndian);
    const sections: typeof notes = [];
    for (let i = 0; i < shnum && (i + 1) * shentsize <= table.length; i++) {
      const at = i * shentsize;
      if (reader.u32(at + 4) !== _SHT_NOTE) continue;
      sections.push(
        bits === 64
          ? { offset: reader.u64(at + 24), size: reader.u64(at + 32), align: reader.u64(at + 48) }
          : { offset: reader.u32(at + 16), size: reader.u32(at + 20), align: reader.u32(at + 32) },
      );
    }
    info.buildId = await _buildIdIn(source, sections, littleEndian);
  }
  return info;
}

/**
 * Walk ELF notes in `data` and return the descriptor of the first `GNU` note of `type`.
 * Note entries are padded to 4 bytes, or 8 in segments aligned to 8 (`.note.gnu.property`).
 */
export function findNote(
  data: Uint8Array,
  type: number,
  options: { littleEndian: boolean; align?: number },
): Uint8Array | undefined {
  const align = options.align === 8 ? 8 : 4;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pad = (n: number) => Math.ceil(n / align) * align;
  let at = 0;
  while (at + 12 <= data.length) {
    const namesz = view.getUint32(at, options.littleEndian);
    const descsz = view.getUint32(at + 4, options.littleEndian);
    const noteType = view.getUint32(at + 8, options.littleEndian);
    const nameAt = at + 12;
    const descAt = nameAt + pad(namesz);
    const next = descAt + pad(descsz);
    if (descAt + descsz > data.length || next <= at) return undefined;
    const name = new TextDecoder().decode(data.subarray(nameAt, nameAt + namesz)).replace(
      /\0+$/,
      "",
    );
    if (noteType === type && name === "GNU") return data.subarray(descAt, descAt + descsz);
    at = next;
  }
  return undefined;
}

async function _buildIdIn(
  source: ByteSource,
  regions: ReadonlyArray<{ offset: number; size: number; align: number }>,
  littleEndian: boolean,
): Promise<string | undefined> {
  for (const region of regions) {
    if (region.size <= 0 || region.size > _MAX_NOTE_BYTES) continue;
    const data = await source.read(region.offset, region.size);
    const desc = findNote(data, _NT_GNU_BUILD_ID, { littleEndian, align: region.align });
    if (desc && desc.length > 0) {
      return Array.from(desc, (b) => b.toString(16).padStart(2, "0")).join("");
    }
  }
  return undefined;
}
