/**
 * Which dynamic loaders send "maps changed" records: the crash watcher attaches a uprobe
 * to a loader's `_dl_debug_state` once per loader file (`dev:inode`), for every process
 * that uses it, and polls the processes whose loader cannot be hooked.
 *
 * @module
 */

import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import type { LoaderMapping } from "./find_loader.ts";

/**
 * Attaches the hook to the loader opened at `openPath`, or `undefined` when no programs
 * can (the bpftrace engine hooks only the loader written into its program).
 */
export type AttachLoaderHook = (openPath: string) => Promise<void> | undefined;

/** The loader hooks attached, or being attached; see the module documentation. */
export class LoaderHooks {
  /** Per loader (`dev:inode`): whether its `_dl_debug_state` sends "maps changed" records. */
  readonly #hooks = new Map<string, Promise<boolean>>();
  readonly #attach: AttachLoaderHook;
  readonly #debug: DebugLog;

  /** Hooks loaders with `attach`. */
  constructor(attach: AttachLoaderHook, debug: DebugLog = silentDebug) {
    this.#attach = attach;
    this.#debug = debug;
  }

  /** Whether the loader `key` sends records, or `undefined` when it was never hooked. */
  get(key: string): Promise<boolean> | undefined {
    return this.#hooks.get(key);
  }

  /** The loader `key` sends records already (the one the bpftrace program hooks). */
  markHooked(key: string): void {
    this.#hooks.set(key, Promise.resolve(true));
  }

  /**
   * Attach the loader hook to the loader `loader` (opened at `openPath`) once; resolves
   * whether its records come.
   */
  hook(loader: LoaderMapping, openPath: string): Promise<boolean> {
    let hooked = this.#hooks.get(loader.key);
    if (hooked === undefined) {
      const attached = this.#attach(openPath);
      hooked = attached === undefined ? Promise.resolve(false) : attached.then(
        () => {
          this.#debug(`crash watcher: hooked the dynamic loader ${loader.path}`);
          return true;
        },
        (error) => {
          this.#debug(
            `crash watcher: cannot hook the dynamic loader ${loader.path} (its processes are polled): ${
              describeCause(error)
            }`,
          );
          return false;
        },
      );
      this.#hooks.set(loader.key, hooked);
    }
    return hooked;
  }
}
