/**
 * `bpf/memprof.bt` as an embedded program, in the shape of `lib/pipeline/bpf/programs.ts`, with the
 * tracepoints the preflight check looks for and the parameters wrapp passes.
 *
 * @module
 */

import type { BpfProgram } from "../../pipeline/bpf/programs.ts";
import { MEMPROF_PROGRAM } from "./memprof_program.ts";

/**
 * `bpf/memprof.bt`: live pages per user stack of one process (resident and page cache),
 * aggregated in the kernel and printed every period. Parameters: see
 * {@linkcode memprofParams}.
 */
export const MEMPROF_BPF: BpfProgram = Object.freeze({
  name: "memprof.bt",
  text: MEMPROF_PROGRAM,
  tracepoints: Object.freeze([
    "kmem:mm_page_alloc",
    "kmem:mm_page_free",
    "filemap:mm_filemap_add_to_page_cache",
    "filemap:mm_filemap_delete_from_page_cache",
    "syscalls:sys_enter_exit_group",
    "signal:signal_deliver",
  ]),
});

/** Options turned into the program's positional parameters. */
export interface MemprofParams {
  /** `$1`: the process. */
  pid: number;
  /** `$2`: count kernel pages allocated for the process too. Default false. */
  allPages?: boolean;
  /** `$3`: print period in seconds, at least 1. Default 1. */
  periodS?: number;
}

/** The positional parameters `$1 $2 $3` of memprof.bt. */
export function memprofParams(params: MemprofParams): number[] {
  const period = Math.max(1, Math.round(params.periodS ?? 1));
  return [params.pid, params.allPages ? 1 : 0, period];
}

/**
 * Environment for bpftrace: no user-space symbolization (wrapp symbolizes itself, and
 * bpftrace would do it on every print), and `BPFTRACE_MAP_KEYS_MAX` sized for
 * `maxPages` tracked allocations.
 */
export function memprofEnv(maxPages: number): Record<string, string> {
  return {
    BPFTRACE_NO_USER_SYMBOLS: "1",
    BPFTRACE_MAP_KEYS_MAX: String(Math.max(4096, Math.round(maxPages))),
  };
}
