/**
 * POSIX path functions with node:path's results, for the modules `wrapp run` loads.
 *
 * Importing any `node:` module makes Deno set up its Node compatibility layer first: that
 * measured 50-130 ms of every start (and about 2 MiB resident) for what these few lines
 * do. tests/run_imports_test.ts keeps `node:` modules out of the run command's imports.
 *
 * @module
 */

/** Whether `path` starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path` with `.`, `..` and repeated slashes resolved; `"."` for an empty result. A trailing slash stays. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = isAbsolute(path);
  const trailing = path.endsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else {
      parts.push(part);
    }
  }
  let joined = parts.join("/");
  if (joined === "" && !absolute) joined = ".";
  if (trailing && joined !== "") joined += "/";
  return absolute ? `/${joined}` : joined;
}

/** The non-empty `paths` joined with `/` and normalized; `"."` when there are none. */
export function join(...paths: string[]): string {
  const joined = paths.filter((path) => path !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** The absolute path `paths` lead to from the current directory, without a trailing slash. */
export function resolve(...paths: string[]): string {
  let resolved = "";
  for (let k = paths.length - 1; k >= -1 && !isAbsolute(resolved); k--) {
    const path = k >= 0 ? paths[k] : Deno.cwd();
    if (path === "") continue;
    resolved = resolved === "" ? path : `${path}/${resolved}`;
  }
  const normal = normalize(resolved);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** The folder part of `path`: `/a/b` → `/a`, `a` → `.`, `/` → `/` (node:path's algorithm). */
export function dirname(path: string): string {
  if (path === "") return ".";
  const hasRoot = path[0] === "/";
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; --i) {
    if (path[i] === "/") {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else {
      matchedSlash = false;
    }
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return path.slice(0, end);
}

/** The last part of `path`, trailing slashes ignored: `/a/b/` → `b`. */
export function basename(path: string): string {
  let start = 0;
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 0; --i) {
    if (path[i] === "/") {
      if (!matchedSlash) {
        start = i + 1;
        break;
      }
    } else if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
  }
  return end === -1 ? "" : path.slice(start, end);
}

/** The path of a `file:` URL, percent-decoded. Throws `TypeError` for another scheme. */
export function fileUrlToPath(url: string | URL): string {
  const parsed = url instanceof URL ? url : new URL(url);
  if (parsed.protocol !== "file:") {
    throw new TypeError(`Invalid file URL "${parsed.href}": the scheme must be file`);
  }
  return decodeURIComponent(parsed.pathname);
}
