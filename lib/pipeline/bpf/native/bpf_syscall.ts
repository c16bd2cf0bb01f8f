/**
 * The `bpf(2)` commands the native loader needs — create a map, load a program, update
 * and delete a map element — with `union bpf_attr` laid out by hand (the offsets are the
 * kernel's ABI, the same on every architecture). Each returns or takes a file descriptor;
 * closing it frees the object once nothing else holds it.
 *
 * @module
 */

import { addressOf, check, lastErrno, libc, SyscallError, syscallNumbers } from "./libc.ts";

// Commands (include/uapi/linux/bpf.h, enum bpf_cmd).
const _MAP_CREATE = 0, _MAP_UPDATE_ELEM = 2, _MAP_DELETE_ELEM = 3, _PROG_LOAD = 5;

/** Map types used here (enum bpf_map_type). */
export const BPF_MAP_TYPE = Object.freeze({ HASH: 1, RINGBUF: 27 });

/** Program types used here (enum bpf_prog_type). */
export const BPF_PROG_TYPE = Object.freeze({ KPROBE: 2, RAW_TRACEPOINT: 17 });

/** Size of the `bpf_attr` passed: large enough for every field set here, zero beyond. */
const _ATTR_SIZE = 128;

function _bpf(cmd: number, name: string, attr: Uint8Array<ArrayBuffer>): number {
  const result = libc().syscall4(
    BigInt(syscallNumbers().bpf),
    BigInt(cmd),
    attr,
    BigInt(_ATTR_SIZE),
  );
  return check(`bpf(${name})`, result);
}

function _name(attr: Uint8Array, offset: number, name: string): void {
  // BPF object names: 15 characters at most, [A-Za-z0-9_.].
  attr.set(new TextEncoder().encode(name.replace(/[^\w.]/g, "_").slice(0, 15)), offset);
}

/** Options for {@linkcode createMap}. */
export interface CreateMapOptions {
  /** {@linkcode BPF_MAP_TYPE}. */
  type: number;
  /** Key size in bytes (0 for a ring buffer). */
  keySize: number;
  /** Value size in bytes (0 for a ring buffer). */
  valueSize: number;
  /** Most entries; for a ring buffer its size in bytes (a power of two, whole pages). */
  maxEntries: number;
  /** A name for `bpftool map` (15 characters at most). */
  name: string;
}

/** `BPF_MAP_CREATE`: a new map's fd. Throws a {@linkcode SyscallError}. */
export function createMap(options: CreateMapOptions): number {
  const attr = new Uint8Array(_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, options.type, true);
  view.setUint32(4, options.keySize, true);
  view.setUint32(8, options.valueSize, true);
  view.setUint32(12, options.maxEntries, true);
  _name(attr, 28, options.name);
  return _bpf(_MAP_CREATE, "BPF_MAP_CREATE", attr);
}

function _elem(fd: number, key: Uint8Array<ArrayBuffer>, value?: Uint8Array<ArrayBuffer>) {
  const attr = new Uint8Array(_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, fd, true);
  view.setBigUint64(8, addressOf(key), true);
  if (value) view.setBigUint64(16, addressOf(value), true);
  return attr;
}

/** `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`: insert or replace. Throws a {@linkcode SyscallError}. */
export function updateElement(
  fd: number,
  key: Uint8Array<ArrayBuffer>,
  value: Uint8Array<ArrayBuffer>,
): void {
  _bpf(_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", _elem(fd, key, value));
}

/** `BPF_MAP_DELETE_ELEM`: false when the key was not there; other failures throw. */
export function deleteElement(fd: number, key: Uint8Array<ArrayBuffer>): boolean {
  try {
    _bpf(_MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM", _elem(fd, key));
    return true;
  } catch (error) {
    if (error instanceof SyscallError && error.errno === 2) return false;
    throw error;
  }
}

/** Options for {@linkcode loadProgram}. */
export interface LoadProgramOptions {
  /** {@linkcode BPF_PROG_TYPE}. */
  type: number;
  /** The assembled instructions. */
  instructions: Uint8Array;
  /** A name for `bpftool prog` (15 characters at most). */
  name: string;
  /** The licence; helpers such as `bpf_get_stack` need a GPL-compatible one. Default `"GPL"`. */
  license?: string;
}

/** Loads interrupted by a signal tried again before giving up (libbpf tries 5 times). */
const _INTERRUPTED_LOADS = 100;
const _EAGAIN = 11;

/**
 * `BPF_PROG_LOAD`: the loaded program's fd. When the verifier refuses it, loads it again
 * with the verifier's log and throws a {@linkcode SyscallError} whose message ends with
 * the log's last lines. A load a signal interrupts (the verifier gives up with EAGAIN when
 * one is pending: a SIGCHLD, a profiler's SIGPROF) is tried again, as for EINTR.
 */
export function loadProgram(options: LoadProgramOptions): number {
  const insns = new Uint8Array(options.instructions);
  const license = new TextEncoder().encode(`${options.license ?? "GPL"}\0`);
  const load = (log?: Uint8Array<ArrayBuffer>) => {
    const attr = new Uint8Array(_ATTR_SIZE);
    const view = new DataView(attr.buffer);
    view.setUint32(0, options.type, true);
    view.setUint32(4, insns.byteLength / 8, true);
    view.setBigUint64(8, addressOf(insns), true);
    view.setBigUint64(16, addressOf(license), true);
    if (log) {
      view.setUint32(24, 1, true); // log_level
      view.setUint32(28, log.byteLength, true);
      view.setBigUint64(32, addressOf(log), true);
    }
    _name(attr, 48, options.name);
    return Number(
      libc().syscall4(
        BigInt(syscallNumbers().bpf),
        BigInt(_PROG_LOAD),
        attr,
        BigInt(_ATTR_SIZE),
      ),
    );
  };
  const loadUninterrupted = (log?: Uint8Array<ArrayBuffer>) => {
    let fd = load(log);
    for (let tries = 1; fd < 0 && lastErrno() === _EAGAIN && tries < _INTERRUPTED_LOADS; tries++) {
      fd = load(log);
    }
    return fd;
  };
  const fd = loadUninterrupted();
  if (fd >= 0) return fd;
  const errno = lastErrno();
  const log = new Uint8Array(64 * 1024);
  const retry = loadUninterrupted(log);
  if (retry >= 0) return retry; // refused once, then accepted: keep it
  const text = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0))));
  const tail = text.trim().split("\n").slice(-6).join(" | ");
  throw new SyscallError(`bpf(BPF_PROG_LOAD) of ${options.name}`, errno, tail);
}
