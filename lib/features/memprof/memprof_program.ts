/**
 * `bpf/memprof.bt`, embedded in the binary through the module graph (a text import, like
 * the programs of `lib/pipeline/bpf/programs.ts`), so the compiled wrapp carries it.
 *
 * @module
 */

import memprofProgram from "../../../bpf/memprof.bt" with { type: "text" };

/** The bpftrace program that counts live pages per user stack (see bpf/memprof.bt). */
export const MEMPROF_PROGRAM: string = memprofProgram;
