/**
 * What the kernel does with a core dump, from `/proc/sys/kernel/core_pattern` and
 * `core_uses_pid`, and where a plain-file pattern puts the core of one process.
 *
 * Everything here is pure: {@linkcode parseCorePattern} turns the setting into a
 * {@linkcode CoreStrategy}; {@linkcode expandCorePattern} expands a plain-file pattern for a
 * crashed process the way `format_corename()` in the kernel's `fs/coredump.c` does, with
 * the values that are unknown after the fact (`%t`, `%h`, `%i`, …) left as wildcards;
 * {@linkcode corePathMatchers} turns the expansion into one matcher per path component.
 *
 * @module
 */

/** The two kernel settings that decide where a core goes. */
export interface CoreSettings {
  /** Content of `/proc/sys/kernel/core_pattern`, without the trailing newline. */
  pattern: string;
  /** `/proc/sys/kernel/core_uses_pid` is 1: `.PID` is appended when the pattern has no `%p`. */
  usesPid: boolean;
}

/** How the kernel hands out core dumps. */
export type CoreStrategy =
  | {
    /** The kernel writes the core to a file named by the pattern. */
    readonly kind: "file";
    readonly pattern: string;
    readonly usesPid: boolean;
    /** The pattern is relative: the core lands in the crashing process's working directory. */
    readonly relative: boolean;
  }
  | {
    /** Cores go to systemd-coredump (`|…/systemd-coredump …` or its socket); read them with `coredumpctl`. */
    readonly kind: "systemd-coredump";
    readonly pattern: string;
    /** The helper program or socket path. */
    readonly helper: string;
  }
  | {
    /** Cores go to Ubuntu's apport, which keeps them in `/var/lib/apport/coredump`. */
    readonly kind: "apport";
    readonly pattern: string;
    readonly helper: string;
  }
  | {
    /** Cores go to another program or socket, whose storage wrapp does not know. */
    readonly kind: "pipe";
    readonly pattern: string;
    readonly helper: string;
  }
  | {
    /** No core is kept at all (empty pattern, `/dev/null`, `|/bin/false`). */
    readonly kind: "none";
    readonly pattern: string;
    /** Why, as a sentence fragment: `core_pattern is empty`. */
    readonly reason: string;
  };

/** Longest comm (`%e`) the kernel keeps: TASK_COMM_LEN 16 minus the terminating NUL. */
export const COMM_MAX_BYTES = 15;

const _DISCARDING_HELPERS = new Set(["false", "true"]);

/**
 * Classify a core_pattern. `|…` runs a helper (systemd-coredump, apport or something
 * else), `@…` (Linux 6.16+) connects to a socket, anything else is a file pattern,
 * relative to the crashing process's working directory unless it starts with `/`.
 */
export function parseCorePattern(settings: CoreSettings): CoreStrategy {
  const pattern = settings.pattern.replace(/\n$/, "");
  if (pattern.startsWith("|")) {
    const helper = pipeArguments(pattern)[0] ?? "";
    const name = helper.slice(helper.lastIndexOf("/") + 1);
    if (helper === "") {
      return { kind: "none", pattern, reason: 'core_pattern is "|" without a program' };
    }
    if (name.includes("systemd-coredump")) return { kind: "systemd-coredump", pattern, helper };
    if (name === "apport") return { kind: "apport", pattern, helper };
    if (_DISCARDING_HELPERS.has(name)) {
      return { kind: "none", pattern, reason: `core_pattern pipes cores to "${helper}"` };
    }
    return { kind: "pipe", pattern, helper };
  }
  if (pattern.startsWith("@")) {
    const helper = pattern.replace(/^@@?/, "");
    if (helper.includes("systemd") || helper.includes("coredump")) {
      return { kind: "systemd-coredump", pattern, helper };
    }
    return { kind: "pipe", pattern, helper };
  }
  if (pattern === "" && !settings.usesPid) {
    return { kind: "none", pattern, reason: "core_pattern is empty" };
  }
  if (pattern === "/dev/null" || pattern.startsWith("/dev/null/")) {
    return { kind: "none", pattern, reason: `core_pattern is "${pattern}"` };
  }
  return { kind: "file", pattern, usesPid: settings.usesPid, relative: !pattern.startsWith("/") };
}

/**
 * Split a pipe pattern into the helper's arguments, as the kernel does: on whitespace,
 * before template expansion, without quoting. `"|/usr/lib/systemd/systemd-coredump %P %u"`
 * → `["/usr/lib/systemd/systemd-coredump", "%P", "%u"]`.
 */
export function pipeArguments(pattern: string): string[] {
  return pattern.replace(/^\|/, "").split(/\s+/).filter((part) => part !== "");
}

/** What is known about the crashed process when its core is looked for. */
export interface PatternValues {
  /** `%p`: pid in its own pid namespace (the one wrapp sees). */
  pid: number;
  /** `%P`: pid in the initial pid namespace. Unknown → wildcard. */
  globalPid?: number;
  /** `%i`: tid of the thread that crashed. Unknown → wildcard. */
  tid?: number;
  /** `%I`: that tid in the initial pid namespace. Unknown → wildcard. */
  globalTid?: number;
  /** `%u`: real uid. Unknown → wildcard. */
  uid?: number;
  /** `%g`: real gid. Unknown → wildcard. */
  gid?: number;
  /** `%s`: signal number. Unknown → wildcard. */
  signal?: number;
  /** `%t`: seconds since the epoch when the core was dumped. Unknown → wildcard. */
  time?: number;
  /** `%h`: host name (of the process's UTS namespace). Unknown → wildcard. */
  hostname?: string;
  /** `%e`: comm, the thread name (the executable's base name unless the program renamed it); cut to 15 bytes here. Unknown → wildcard. */
  comm?: string;
  /** `%E` and `%f`: real path of the executable (`/proc/PID/exe`). Unknown → wildcard. */
  executablePath?: string;
  /** `%c`: soft RLIMIT_CORE in bytes; `Infinity` for unlimited. Unknown → wildcard. */
  coreLimit?: number;
  /** `%d`: dump mode (prctl PR_GET_DUMPABLE). Unknown → wildcard. */
  dumpMode?: number;
  /** `%C`: CPU the task ran on. Unknown → wildcard. */
  cpu?: number;
}

/** One piece of an expanded pattern: literal text, or a value unknown after the fact. */
export type PatternPiece =
  | { readonly kind: "text"; readonly text: string }
  | {
    readonly kind: "wildcard";
    /** The specifier letter it stands for, e.g. `t`. */
    readonly specifier: string;
    /** Regular expression source matching its possible values (never matches `/`). */
    readonly regex: string;
  };

/** RLIM_INFINITY as `%c` prints it (`%lu` of ~0UL on 64-bit kernels). */
const _RLIM_INFINITY_TEXT = "18446744073709551615";

const _DIGITS = "\\d+";
const _NAME = "[^/]+";

/**
 * Expand a plain-file pattern for one process, like the kernel's `format_corename()`:
 * `%%` `%p` `%P` `%i` `%I` `%u` `%g` `%d` `%s` `%t` `%h` `%e` `%f` `%E` `%c` `%C` `%F`;
 * an unknown `%x` and a trailing `%` are dropped; `%h` `%e` `%f` `%E` have `/` replaced by
 * `!` (and a value of `.`/`..`/empty made harmless the same way); with `usesPid` and no
 * `%p`, `.PID` is appended. Values missing from `values` become wildcards.
 */
export function expandCorePattern(
  pattern: string,
  values: PatternValues,
  options: { usesPid?: boolean } = {},
): PatternPiece[] {
  const out = new _PieceList();
  let pidInPattern = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char !== "%") {
      out.text(char);
      continue;
    }
    const spec = pattern[++i];
    if (spec === "p") pidInPattern = true;
    _expandSpecifier(spec, values, out);
  }
  if (options.usesPid && !pidInPattern) out.text(`.${values.pid}`);
  return out.pieces;
}

/** The specifiers that expand to a number, with the value each takes. */
const _NUMBER_SPECIFIERS: ReadonlyMap<string, (values: PatternValues) => number | undefined> =
  new Map([
    ["P", (values) => values.globalPid],
    ["i", (values) => values.tid],
    ["I", (values) => values.globalTid],
    ["u", (values) => values.uid],
    ["g", (values) => values.gid],
    ["d", (values) => values.dumpMode],
    ["s", (values) => values.signal],
    ["t", (values) => values.time],
    ["C", (values) => values.cpu],
  ]);

/** Append the expansion of `%<spec>` (`undefined`: a `%` at the end of the pattern). */
function _expandSpecifier(
  spec: string | undefined,
  values: PatternValues,
  out: _PieceList,
): void {
  switch (spec) {
    case undefined:
      break; // a single % at the end is dropped
    case "%":
      out.text("%");
      break;
    case "p":
      out.text(String(values.pid));
      break;
    case "c":
      if (values.coreLimit === undefined) out.wildcard("c", _DIGITS);
      else {
        out.text(
          Number.isFinite(values.coreLimit) ? String(values.coreLimit) : _RLIM_INFINITY_TEXT,
        );
      }
      break;
    case "h":
      out.escaped("h", values.hostname);
      break;
    case "e":
      _expandComm(values.comm, out);
      break;
    case "f":
      out.escaped(
        "f",
        values.executablePath === undefined
          ? undefined
          : values.executablePath.slice(values.executablePath.lastIndexOf("/") + 1),
      );
      break;
    case "E":
      out.escaped("E", values.executablePath);
      break;
    case "F":
      break; // a pidfd number exists only for pipe helpers
    default: {
      const numberOf = _NUMBER_SPECIFIERS.get(spec);
      // Unknown specifiers are dropped with their %.
      if (numberOf !== undefined) out.number(spec, numberOf(values));
    }
  }
}

/** Append `%e`: comm cut to the kernel's 15 bytes. */
function _expandComm(comm: string | undefined, out: _PieceList): void {
  if (comm === undefined) {
    out.wildcard("e", _NAME);
    return;
  }
  const { text, cut } = truncateComm(comm);
  // A name cut inside a multi-byte character leaves bytes no string can spell: match them loosely.
  if (cut) out.wildcard("e", `${escapeRegExp(escapeCoreName(text))}[^/]*`);
  else out.text(escapeCoreName(text));
}

/** The pieces of an expansion as they are appended, adjacent text merged into one piece. */
class _PieceList {
  readonly pieces: PatternPiece[] = [];

  /** Literal text. */
  text(t: string): void {
    const last = this.pieces.at(-1);
    if (last?.kind === "text") {
      this.pieces[this.pieces.length - 1] = { kind: "text", text: last.text + t };
    } else if (t !== "") this.pieces.push({ kind: "text", text: t });
  }

  /** A value unknown after the fact, matched by `regex`. */
  wildcard(specifier: string, regex: string): void {
    this.pieces.push({ kind: "wildcard", specifier, regex });
  }

  /** A number, or digits when it is unknown. */
  number(specifier: string, value: number | undefined): void {
    if (value === undefined) this.wildcard(specifier, _DIGITS);
    else this.text(String(value));
  }

  /** A name escaped like the kernel does, or any name when it is unknown. */
  escaped(specifier: string, value: string | undefined): void {
    if (value === undefined) this.wildcard(specifier, _NAME);
    else this.text(escapeCoreName(value));
  }
}

/**
 * The kernel's `cn_esc_printf()` escaping of one expanded value: `/` becomes `!`, a value
 * of `.` or `..` gets its first character replaced by `!`, an empty value becomes `!`.
 */
export function escapeCoreName(value: string): string {
  if (value === "") return "!";
  const safe = value === "." || value === ".." ? `!${value.slice(1)}` : value;
  return safe.replaceAll("/", "!");
}

/**
 * Cut a program name to the 15 bytes the kernel keeps in comm. `cut` is true when the
 * limit fell inside a multi-byte UTF-8 character, which is then left out.
 */
export function truncateComm(name: string): { text: string; cut: boolean } {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length <= COMM_MAX_BYTES) return { text: name, cut: false };
  let end = COMM_MAX_BYTES;
  // Back up to the start of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return {
    text: new TextDecoder().decode(bytes.subarray(0, end)),
    cut: end !== COMM_MAX_BYTES,
  };
}

/** Matches one path component: literal text, or a regular expression. */
export type ComponentMatcher =
  | { readonly kind: "literal"; readonly name: string }
  | { readonly kind: "regex"; readonly regex: RegExp; readonly source: string };

/**
 * Split an expansion into absolute path components, resolving a relative pattern
 * against `cwd`. Components without wildcards are literal; the others are anchored
 * regular expressions. `.` and `..` components are resolved.
 */
export function corePathMatchers(pieces: readonly PatternPiece[], cwd: string): ComponentMatcher[] {
  const first = pieces[0];
  const absolute = first?.kind === "text" && first.text.startsWith("/");
  const components: Array<Array<PatternPiece>> = [[]];
  const start = absolute ? [] : cwd.split("/").filter((c) => c !== "");
  for (const piece of pieces) {
    if (piece.kind === "wildcard") {
      components.at(-1)!.push(piece);
      continue;
    }
    const parts = piece.text.split("/");
    parts.forEach((part, index) => {
      if (index > 0) components.push([]);
      if (part !== "") components.at(-1)!.push({ kind: "text", text: part });
    });
  }
  const matchers: ComponentMatcher[] = start.map((name) => ({ kind: "literal", name }));
  for (const component of components) {
    if (component.length === 0) continue;
    if (component.every((p) => p.kind === "text")) {
      const name = component.map((p) => (p as { text: string }).text).join("");
      if (name === ".") continue;
      if (name === "..") {
        if (matchers.at(-1)?.kind === "literal") matchers.pop();
        continue;
      }
      matchers.push({ kind: "literal", name });
      continue;
    }
    const source = `^${
      component.map((p) => p.kind === "text" ? escapeRegExp(p.text) : `(?:${p.regex})`).join("")
    }$`;
    matchers.push({ kind: "regex", regex: new RegExp(source, "u"), source });
  }
  return matchers;
}

/** Readable form of an expansion, with wildcards as `*`: `/var/crash/core.svc.4242.*`. */
export function describeExpansion(pieces: readonly PatternPiece[], cwd?: string): string {
  const text = pieces.map((p) => p.kind === "text" ? p.text : "*").join("");
  if (cwd === undefined || text.startsWith("/")) return text;
  return `${cwd.replace(/\/+$/, "")}/${text}`;
}

/** The folder a file pattern writes into, when it has no wildcard; `undefined` otherwise. */
export function literalFolder(pieces: readonly PatternPiece[], cwd: string): string | undefined {
  const matchers = corePathMatchers(pieces, cwd);
  const folder = matchers.slice(0, -1);
  if (folder.some((m) => m.kind !== "literal")) return undefined;
  return "/" + folder.map((m) => (m as { name: string }).name).join("/");
}

/** Escape text for use inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
