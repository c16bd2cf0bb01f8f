/**
 * The HTTP server of `wrapp memprof`: TezEdge's memory-profiler API and the browser page.
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /` (and `/memprof.js`, `/memprof.css`) | the page: flame graph and call tree, served from the binary |
 * | `GET /v1/tree?reverse=false&threshold=256` | the call tree as TezEdge's JSON (see `tezedge_json.ts`) |
 * | `GET /v1/tree?short=true` | TezEdge's short report: `{total, cache, anon, systemReportAnon}` kB |
 * | `GET /v1/pid` | the pid, a JSON number |
 * | `GET /v1/status` | wrapp's own: attributed vs RSS, before-attach memory, lost pages |
 * | `GET /v1/folded` | collapsed stacks (text) for flamegraph.pl or speedscope |
 *
 * It listens on 127.0.0.1 by default. Bound to a loopback address it answers only
 * requests whose `Host` is a loopback name, so a web page elsewhere cannot read the
 * profile through DNS rebinding; no CORS header is sent unless `allowOrigin` is given.
 *
 * @module
 */

import { describeCause, UsageError, WrappError } from "../../core/errors.ts";
import { PAGE_ASSETS } from "./page_assets.ts";
import type { TezedgeNode } from "./tezedge_json.ts";

/** Default port, TezEdge's. */
export const DEFAULT_PORT = 17832;

/** What the server reads from a running profile. */
export interface MemprofSource {
  /** The profiled process. */
  readonly pid: number;
  /** The TezEdge tree. */
  tree(options: { reverse: boolean; threshold: number }): TezedgeNode;
  /** TezEdge's short report, kB. */
  short(): { total: number; cache: number; anon: number; systemReportAnon: number };
  /** wrapp's status object (see `GET /v1/status` in the README). */
  status(): unknown;
  /** Collapsed stacks text. */
  folded(): string;
}

/** Options for {@linkcode serveMemprof}. */
export interface ServeMemprofOptions {
  /** Address to bind. Default `127.0.0.1`. */
  hostname?: string;
  /** Port; 0 picks a free one. Default {@linkcode DEFAULT_PORT}. */
  port?: number;
  /** Send `Access-Control-Allow-Origin: <allowOrigin>` on API answers (e.g. for TezEdge's explorer). Default: none. */
  allowOrigin?: string;
}

/** A listening server. */
export interface MemprofServer {
  /** Where it listens. */
  readonly hostname: string;
  /** The port (useful with port 0). */
  readonly port: number;
  /** `http://host:port/`. */
  readonly url: string;
  /** Stop listening and close connections. */
  shutdown(): Promise<void>;
}

/** Parse `--listen`: `PORT`, `HOST:PORT` or `[V6]:PORT`. Throws {@linkcode UsageError}. */
export function parseListen(text: string): { hostname: string; port: number } {
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(
      `Invalid --listen "${text}": expected PORT or HOST:PORT, e.g. "127.0.0.1:${DEFAULT_PORT}"`,
    );
  }
  return { hostname: match[1] ?? match[2] ?? "127.0.0.1", port };
}

/** Start serving `source`. Throws {@linkcode WrappError} when the address cannot be bound. */
export function serveMemprof(
  source: MemprofSource,
  options: ServeMemprofOptions = {},
): MemprofServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORT;
  const loopback = _isLoopback(hostname);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, onListen: () => {} },
      (request) => _handle(source, request, { loopback, allowOrigin: options.allowOrigin }),
    );
  } catch (error) {
    const hint = error instanceof Deno.errors.AddrInUse
      ? ` (another wrapp memprof? choose a port with --listen 127.0.0.1:PORT)`
      : "";
    throw new WrappError(
      `Cannot listen on ${_hostPort(hostname, port)}: ${
        error instanceof Deno.errors.AddrInUse ? "address already in use" : describeCause(error)
      }${hint}`,
      { cause: error },
    );
  }
  const bound = server.addr.port;
  return {
    hostname,
    port: bound,
    url: `http://${_hostPort(hostname === "0.0.0.0" ? "127.0.0.1" : hostname, bound)}/`,
    shutdown: () => server.shutdown(),
  };
}

function _hostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

function _isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

const _PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

function _handle(
  source: MemprofSource,
  request: Request,
  options: { loopback: boolean; allowOrigin?: string },
): Response {
  const url = new URL(request.url);
  if (options.loopback && !_loopbackHost(request.headers.get("host"))) {
    return new Response("Forbidden: wrapp memprof answers only to a loopback Host\n", {
      status: 403,
    });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
  }
  const api: Record<string, string> = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  };
  if (options.allowOrigin) api["Access-Control-Allow-Origin"] = options.allowOrigin;
  const json = (value: unknown, status = 200) =>
    new Response(request.method === "HEAD" ? null : JSON.stringify(value), {
      status,
      headers: api,
    });
  const asset = PAGE_ASSETS[url.pathname === "/index.html" ? "/" : url.pathname];
  if (asset) {
    return new Response(request.method === "HEAD" ? null : asset.body, {
      headers: { "Content-Type": asset.type, ..._PAGE_HEADERS },
    });
  }
  switch (url.pathname) {
    case "/v1/tree": {
      const threshold = _threshold(url.searchParams.get("threshold"));
      const reverse = _boolean(url.searchParams.get("reverse"));
      const short = _boolean(url.searchParams.get("short"));
      if (threshold === undefined || reverse === undefined || short === undefined) {
        return json({
          error: "threshold must be a whole number of kB; reverse and short must be true or false",
        }, 400);
      }
      return json(short ? source.short() : source.tree({ reverse, threshold }));
    }
    case "/v1/pid":
      return json(source.pid);
    case "/v1/status":
      return json(source.status());
    case "/v1/folded":
      return new Response(request.method === "HEAD" ? null : source.folded(), {
        headers: { ...api, "Content-Type": "text/plain; charset=utf-8" },
      });
  }
  return json({ error: `No such resource "${url.pathname}"` }, 404);
}

function _loopbackHost(host: string | null): boolean {
  if (host === null) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** `threshold`: absent → 256, else a non-negative integer; `undefined` when invalid. */
function _threshold(text: string | null): number | undefined {
  if (text === null || text === "") return 256;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** A TezEdge boolean query parameter: absent → false. */
function _boolean(text: string | null): boolean | undefined {
  if (text === null || text === "" || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  return undefined;
}
