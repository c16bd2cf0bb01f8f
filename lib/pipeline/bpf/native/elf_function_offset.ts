/**
 * Where a named function starts in an ELF file, as the file offset a uprobe takes: the
 * symbol's virtual address moved through the `PT_LOAD` segment holding it. Both `.dynsym`
 * and `.symtab` are searched. 64-bit little-endian ELF only (x86_64, aarch64: where wrapp
 * loads eBPF programs).
 *
 * @module
 */

const _PT_LOAD = 1;
const _SHT_SYMTAB = 2;
const _SHT_DYNSYM = 11;
const _STT_FUNC = 2;
const _SYM_SIZE = 24;

/**
 * The file offset of function `name` in the ELF `bytes`, or `undefined` when it has no
 * such defined function. Throws a `SyntaxError` for anything but 64-bit little-endian ELF.
 */
export function functionFileOffset(bytes: Uint8Array, name: string): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.byteLength < 64 || view.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1
  ) {
    throw new SyntaxError("Not a 64-bit little-endian ELF file");
  }
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const inside = (at: number, length: number) => at >= 0 && at + length <= bytes.byteLength;
  const wanted = new TextEncoder().encode(name);

  const vaddr = _symbolAddress();
  if (vaddr === undefined) return undefined;
  const phoff = u64(32), phentsize = u16(54), phnum = u16(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (!inside(at, 56) || u32(at) !== _PT_LOAD) continue;
    const offset = u64(at + 8), start = u64(at + 16), filesz = u64(at + 32);
    if (vaddr >= start && vaddr < start + filesz) return vaddr - start + offset;
  }
  return undefined;

  function _symbolAddress(): number | undefined {
    const shoff = u64(40), shentsize = u16(58), shnum = u16(60);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      if (!inside(at, 64)) break;
      const type = u32(at + 4);
      if (type !== _SHT_SYMTAB && type !== _SHT_DYNSYM) continue;
      const offset = u64(at + 24), size = u64(at + 32);
      const strings = shoff + u32(at + 40) * shentsize;
      if (!inside(strings, 64) || !inside(offset, size)) continue;
      const stringsAt = u64(strings + 24), stringsSize = u64(strings + 32);
      if (!inside(stringsAt, stringsSize)) continue;
      for (let sym = offset + _SYM_SIZE; sym + _SYM_SIZE <= offset + size; sym += _SYM_SIZE) {
        const nameAt = stringsAt + u32(sym);
        if ((bytes[sym + 4] & 0xf) !== _STT_FUNC || u16(sym + 6) === 0) continue;
        if (nameAt + wanted.length >= stringsAt + stringsSize) continue;
        if (bytes[nameAt + wanted.length] !== 0) continue;
        if (wanted.every((byte, k) => bytes[nameAt + k] === byte)) return u64(sym + 8);
      }
    }
    return undefined;
  }
}
