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
  const pieces: PatternPiece[] = [];
  const text = (t: string) => {
    const last = pieces.at(-1);
    if (last?.kind === "text") pieces[pieces.length - 1] = { kind: "text", text: last.text + t };
    else if (t !== "") pieces.push({ kind: "text", text: t });
  };
  const wildcard = (specifier: string, regex: string) =>
    pieces.push({ kind: "wildcard", specifier, regex });
  const number = (specifier: string, value: number | undefined) =>
    value === undefined ? wildcard(specifier, _DIGITS) : text(String(value));
  const escaped = (specifier: string, value: string | undefined) =>
    value === undefined ? wildcard(specifier, _NAME) : text(escapeCoreName(value));

  let pidInPattern = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char !== "%") {
      text(char);
      continue;
    }
    const spec = pattern[++i];
    switch (spec) {
      case undefined:
        break; // a single % at the end is dropped
      case "%":
        text("%");
        break;
      case "p":
        pidInPattern = true;
        text(String(values.pid));
        break;
      case "P":
        number("P", values.globalPid);
        break;
      case "i":
        number("i", values.tid);
        break;
      case "I":
        number("I", values.globalTid);
        break;
      case "u":
        number("u", values.uid);
        break;
      case "g":
        number("g", values.gid);
        break;
      case "d":
        number("d", values.dumpMode);
        break;
      case "s":
        number("s", values.signal);
        break;
      case "t":
        number("t", values.time);
        break;
      case "C":
        number("C", values.cpu);
        break;
      case "c":
        if (values.coreLimit === undefined) wildcard("c", _DIGITS);
        else {text(
            Number.isFinite(values.coreLimit) ? String(values.coreLimit) : _RLIM_INFINITY_TEXT,
          );}
        break;
      case "h":
        escaped("h", values.hostname);
        break;
      case "e":
        if (values.comm === undefined) {
          wildcard("e", _NAME);
        } else {
          const { text: comm, cut } = truncateComm(values.comm);
          // A name cut inside a multi-byte character leaves bytes no string can spell: match them loosely.
          if (cut) wildcard("e", `${escapeRegExp(escapeCoreName(comm))}[^/]*`);
          else text(escapeCoreName(comm));
        }
        break;
      case "f":
        escaped(
          "f",
          values.executablePath === undefined
            ? undefined
            : values.executablePath.slice(values.executablePath.lastIndexOf("/") + 1),
        );
        break;
      case "E":
        escaped("E", values.executablePath);
        break;
      case "F":
        break; // a pidfd number exists only for pipe helpers
      default:
        break; // unknown specifiers are dropped with their %
    }
  }
  if (options.usesPid && !pidInPattern) text(`.${values.pid}`);
  return pieces;
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
