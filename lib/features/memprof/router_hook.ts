/**
 * The hook that sends memprof snapshots into wrapp's event pipeline: for `wrapp memprof`
 * with Redis options and for the `[memprof]` section of `wrapp run`.
 * Each snapshot sent becomes Trace Event Format events of kind `tef` on the service's
 * stream — the Redis sink writes them to `logs:app:<stream>:trace`:
 *
 * - the counters of `tef_counters.ts` (`attributed kB`, `process kB`);
 * - one instant event `memprof top` whose args hold the totals and the top allocation
 *   sites: `{residentKb, cacheKb, rssKb, top: [{function, executable, offset, category,
 *   kb, cacheKb, caller?}]}`.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import type { Router } from "../../pipeline/router.ts";
import { topAllocationSites } from "./call_tree.ts";
import type { MemprofSnapshot } from "./memprof_session.ts";
import { frameLabel } from "../../core/symbols/symbolizer.ts";
import { sampleCounterEvents } from "./tef_counters.ts";
import { formatOffset } from "./tezedge_json.ts";

/** Options for {@linkcode memprofToRouter}. */
export interface MemprofToRouterOptions {
  /** The stream (service name): Redis key `logs:app:<stream>:trace`. */
  stream: string;
  /** The profiled pid, written on the TEF events. */
  pid: number;
  /** How many allocation sites a snapshot lists. Default 10. */
  top?: number;
  /** Send at most one snapshot per this many ms; the final one is always sent. Default 10000. */
  everyMs?: number;
}

/** A function to call with every snapshot (e.g. as `onSnapshot`); it emits to `router`. */
export function memprofToRouter(
  router: Router,
  options: MemprofToRouterOptions,
): (snapshot: MemprofSnapshot) => void {
  const everyMs = options.everyMs ?? 10_000;
  let last = -Infinity;
  return (snapshot) => {
    if (!snapshot.final && snapshot.time - last < everyMs) return;
    last = snapshot.time;
    const time = snapshot.time || now();
    const pid = options.pid;
    const counters = sampleCounterEvents({
      time,
      residentKb: snapshot.residentKb,
      cacheKb: snapshot.cacheKb,
      rssKb: snapshot.process?.rssKb,
      anonKb: snapshot.process?.anonKb,
    }, pid).map((event) => JSON.parse(JSON.stringify(event))); // drop undefined args
    const top = topAllocationSites(snapshot.stacks, options.top ?? 10).map((site) => ({
      function: frameLabel(site.frame),
      executable: site.frame.executable,
      offset: formatOffset(site.frame.offset),
      category: site.frame.category,
      kb: site.residentKb + site.cacheKb,
      cacheKb: site.cacheKb,
      ...(site.ownFrame ? { caller: frameLabel(site.ownFrame) } : {}),
    }));
    const instant = {
      ph: "i",
      s: "t",
      name: "memprof top",
      cat: "memprof",
      ts: Math.round(time * 1000),
      pid,
      tid: pid,
      args: {
        residentKb: snapshot.residentKb,
        cacheKb: snapshot.cacheKb,
        ...(snapshot.process ? { rssKb: snapshot.process.rssKb } : {}),
        final: snapshot.final,
        top,
      },
    };
    router.emitAll([...counters, instant].map((event) => ({
      kind: "tef" as const,
      time,
      stream: options.stream,
      event,
    })));
  };
}
