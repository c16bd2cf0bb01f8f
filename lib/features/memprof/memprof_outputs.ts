/**
 * What `wrapp memprof` writes at the end: the call tree as TezEdge JSON (`--out`),
 * collapsed stacks (`--folded`) and the memory counters as a Perfetto trace (`--tef`).
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";
import { buildCallTree } from "./call_tree.ts";
import { foldedStacks } from "./folded.ts";
import type { MemprofSession, MemprofSnapshot } from "./memprof_session.ts";
import { writeTefCounters } from "./tef_counters.ts";
import { toTezedgeTree } from "./tezedge_json.ts";

/** The files asked for, and how the tree is folded. */
export interface MemprofOutputs {
  /** `--out`: the call tree as TezEdge JSON. */
  out?: string;
  /** `--folded`: collapsed stacks. */
  folded?: string;
  /** `--tef`: the counters over time. */
  tef?: string;
  /** `--threshold`, kB: for `out`. */
  threshold: number;
  /** `--reverse`: for `out`. */
  reverse: boolean;
}

/** A command line cut to 80 characters for one-line messages. */
export function shortCommand(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * Write every file `outputs` asks for from the `final` snapshot, each followed by a
 * notice. Throws {@linkcode SinkError} when a file cannot be written.
 */
export async function writeMemprofOutputs(
  session: MemprofSession,
  final: MemprofSnapshot,
  outputs: MemprofOutputs,
  notice: (text: string) => void,
): Promise<void> {
  const write = async (path: string, text: string) => {
    try {
      await Deno.writeTextFile(path, text);
    } catch (error) {
      throw new SinkError(`Cannot write "${path}": ${describeCause(error)}`, { cause: error });
    }
  };
  if (outputs.out) {
    const tree = toTezedgeTree(buildCallTree(final.stacks, { reverse: outputs.reverse }), {
      threshold: outputs.threshold,
    });
    await write(outputs.out, JSON.stringify(tree, null, 1) + "\n");
    notice(`wrapp: wrote the call tree to ${outputs.out}`);
  }
  if (outputs.folded) {
    await write(outputs.folded, foldedStacks(final.stacks));
    notice(`wrapp: wrote collapsed stacks to ${outputs.folded}`);
  }
  if (outputs.tef) {
    await writeTefCounters(outputs.tef, session.samples, {
      pid: session.pid,
      name: `memprof ${shortCommand(session.status().command)}`,
    });
    notice(`wrapp: wrote memory counters to ${outputs.tef} (open in https://ui.perfetto.dev)`);
  }
}
