/**
 * The call tree of live memory: stacks with their resident and page-cache kilobytes,
 * merged by function. Top-down by default (the root's children are the outermost
 * callers, `main` or a thread's start, and each node's children are the functions it
 * called); reversed, the root's children are the functions that allocated, and each
 * node's children are their callers.
 *
 * A node's value includes everything below it. Nodes merge by function (file and
 * function name, or file and offset when the name is unknown), so two call sites in one
 * function are one node.
 *
 * @module
 */

import type { ResolvedFrame } from "../../core/symbols/symbolizer.ts";

/** One stack of the profile with the memory it holds. */
export interface ProfileStack {
  /** Frames, innermost first. */
  readonly frames: readonly ResolvedFrame[];
  /** Resident memory allocated by this stack and not in the page cache, in kB. */
  readonly residentKb: number;
  /** Page-cache memory this stack brought in, in kB. */
  readonly cacheKb: number;
}

/** A node of the call tree. */
export interface CallTreeNode {
  /** The function; `undefined` for the root. */
  readonly frame?: ResolvedFrame;
  /** Resident + cache kB in this node and below. */
  value: number;
  /** Cache kB in this node and below. */
  cacheValue: number;
  /** Children by {@linkcode ResolvedFrame.key}. */
  readonly children: Map<string, CallTreeNode>;
}

/** Options for {@linkcode buildCallTree}. */
export interface BuildCallTreeOptions {
  /** Children are callers instead of callees (allocation sites at the top). Default false. */
  reverse?: boolean;
}

/** Build the tree of `stacks`. */
export function buildCallTree(
  stacks: readonly ProfileStack[],
  options: BuildCallTreeOptions = {},
): CallTreeNode {
  const root: CallTreeNode = { value: 0, cacheValue: 0, children: new Map() };
  for (const stack of stacks) {
    const value = stack.residentKb + stack.cacheKb;
    if (value <= 0) continue;
    let node = root;
    node.value += value;
    node.cacheValue += stack.cacheKb;
    const frames = stack.frames;
    for (let i = 0; i < frames.length; i++) {
      const frame = options.reverse ? frames[i] : frames[frames.length - 1 - i];
      let child = node.children.get(frame.key);
      if (!child) {
        child = { frame, value: 0, cacheValue: 0, children: new Map() };
        node.children.set(frame.key, child);
      }
      child.value += value;
      child.cacheValue += stack.cacheKb;
      node = child;
    }
  }
  return root;
}

/** Children sorted by value, largest first (then by label, for stable output). */
export function sortedChildren(node: CallTreeNode): CallTreeNode[] {
  return [...node.children.values()].sort((a, b) =>
    b.value - a.value || (a.frame?.key ?? "").localeCompare(b.frame?.key ?? "")
  );
}

/** Memory allocated at one place: the innermost frame, and the nearest frame of the program's own code. */
export interface AllocationSite {
  /** The innermost frame (where the page was touched or read). */
  readonly frame: ResolvedFrame;
  /** The innermost frame of the program's own code, when `frame` is a library's. */
  readonly ownFrame?: ResolvedFrame;
  /** Resident kB. */
  readonly residentKb: number;
  /** Page-cache kB. */
  readonly cacheKb: number;
}

/** The `limit` allocation sites holding the most memory, largest first. */
export function topAllocationSites(
  stacks: readonly ProfileStack[],
  limit: number,
): AllocationSite[] {
  const sites = new Map<string, AllocationSite>();
  for (const stack of stacks) {
    const frame = stack.frames[0];
    if (!frame) continue;
    const own = frame.category === "nodeCpp" || frame.category === "nodeRust"
      ? undefined
      : stack.frames.find((f) => f.category === "nodeCpp" || f.category === "nodeRust");
    const key = `${frame.key}\n${own?.key ?? ""}`;
    const site = sites.get(key);
    sites.set(key, {
      frame,
      ownFrame: own,
      residentKb: (site?.residentKb ?? 0) + stack.residentKb,
      cacheKb: (site?.cacheKb ?? 0) + stack.cacheKb,
    });
  }
  return [...sites.values()]
    .sort((a, b) => b.residentKb + b.cacheKb - a.residentKb - a.cacheKb)
    .slice(0, limit);
}
