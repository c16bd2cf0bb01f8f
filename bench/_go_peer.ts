/**
 * Where the benchmarks find the Go wrapp (`wrapp-go-toml`): `--go DIR`, else
 * `$WRAPP_GO_PEER_DIR`, else `../shared/peers/go-wrapp` beside the repository.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";

/** The Go wrapp's binary in `dir` (or the default folder), and whether it can run. */
export function goPeer(dir?: string): { binary: string; present: boolean } {
  const folder = dir ?? Deno.env.get("WRAPP_GO_PEER_DIR") ??
    fromFileUrl(new URL("../../shared/peers/go-wrapp", import.meta.url));
  const binary = `${folder.replace(/\/$/, "")}/wrapp-go-toml`;
  return { binary, present: isExecutable(binary) };
}

/** Whether `path` is a file someone may execute. */
export function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}
