/**
 * The call tree in the JSON of TezEdge's memory profiler (`GET /v1/tree`), so its clients
 * read wrapp's tree as they read TezEdge's:
 *
 * ```json
 * { "value": 98316, "cacheValue": 8192, "frames": [
 *   { "name": { "offset": "00001189", "executable": "app", "functionName": "main",
 *               "functionCategory": "nodeCpp" },
 *     "executable": "app", "offset": "00001189", "functionName": "main",
 *     "functionCategory": "nodeCpp",
 *     "value": 98316, "cacheValue": 8192, "frames": [ … ] },
 *   { "name": "underThreshold", "value": 12, "cacheValue": 0, "frames": [] } ] }
 * ```
 *
 * - `value`: kB of memory (resident + page cache) held by this node and below;
 *   `cacheValue`: the page-cache part. Whole kB, as TezEdge.
 * - `name`: TezEdge's object with `offset` (hex, at least 8 digits, no `0x`),
 *   `executable` (file base name), `functionName` (demangled, `null` when unknown) and
 *   `functionCategory` (`nodeRust`/`nodeCpp` own code, `systemLib`, `unknown`). wrapp
 *   repeats the four fields on the node itself for clients that want them flat.
 *   The root has no name.
 * - `frames`: children, largest first: callees (`reverse=false`) or callers
 *   (`reverse=true`). Children below `threshold` kB are summed into one
 *   `{"name": "underThreshold"}` node; what the kept and dropped children do not explain
 *   (memory allocated in the node's function itself, or a stack cut short) is a
 *   `{"name": "unknown"}` node. Both appear only in a node that has children.
 *
 * @module
 */

import { type CallTreeNode, sortedChildren } from "./call_tree.ts";
import type { FunctionCategory } from "../../core/symbols/symbolizer.ts";

/** TezEdge's description of a function. */
export interface TezedgeName {
  /** Offset in the file, lowercase hex without `0x`, padded to 8 digits. */
  readonly offset: string;
  /** Base name of the file. */
  readonly executable: string;
  /** Demangled name, or `null`. */
  readonly functionName: string | null;
  /** Own code or system library. */
  readonly functionCategory: FunctionCategory;
}

/** A node of the TezEdge tree JSON. */
export interface TezedgeNode {
  /** The function (absent on the root), or the name of a summary node. */
  readonly name?: TezedgeName | "underThreshold" | "unknown";
  /** Same as `name.executable` (function nodes only). */
  readonly executable?: string;
  /** Same as `name.offset`. */
  readonly offset?: string;
  /** Same as `name.functionName`. */
  readonly functionName?: string | null;
  /** Same as `name.functionCategory`. */
  readonly functionCategory?: FunctionCategory;
  /** kB, resident + cache, of this node and below. */
  readonly value: number;
  /** kB of page cache of this node and below. */
  readonly cacheValue: number;
  /** Children. */
  readonly frames: TezedgeNode[];
}

/** Options for {@linkcode toTezedgeTree}. */
export interface TezedgeTreeOptions {
  /** Children holding less than this many kB are folded into `underThreshold`. Default 256, as TezEdge. */
  threshold?: number;
}

/** Default `threshold` of `GET /v1/tree`, in kB. */
export const DEFAULT_THRESHOLD_KB = 256;

/** The TezEdge JSON of `root`. */
export function toTezedgeTree(root: CallTreeNode, options: TezedgeTreeOptions = {}): TezedgeNode {
  return _node(root, options.threshold ?? DEFAULT_THRESHOLD_KB);
}

/** Format a file offset the way TezEdge does: `%08x`. */
export function formatOffset(offset: number): string {
  return offset.toString(16).padStart(8, "0");
}

function _node(node: CallTreeNode, threshold: number): TezedgeNode {
  const frames: TezedgeNode[] = [];
  let under = 0;
  let underCache = 0;
  let kept = 0;
  let keptCache = 0;
  for (const child of sortedChildren(node)) {
    if (child.value >= threshold) {
      frames.push(_node(child, threshold));
      kept += child.value;
      keptCache += child.cacheValue;
    } else {
      under += child.value;
      underCache += child.cacheValue;
    }
  }
  if (node.children.size > 0) {
    if (under > 0) frames.push(_summary("underThreshold", under, underCache));
    const rest = node.value - kept - under;
    if (rest > 0) frames.push(_summary("unknown", rest, node.cacheValue - keptCache - underCache));
  }
  const value = Math.round(node.value);
  const cacheValue = Math.round(node.cacheValue);
  const frame = node.frame;
  if (!frame) return { value, cacheValue, frames };
  const name: TezedgeName = {
    offset: formatOffset(frame.offset),
    executable: frame.executable,
    functionName: frame.functionName ?? null,
    functionCategory: frame.category,
  };
  return { name, ...name, value, cacheValue, frames };
}

function _summary(name: "underThreshold" | "unknown", value: number, cache: number): TezedgeNode {
  return { name, value: Math.round(value), cacheValue: Math.round(cache), frames: [] };
}
