import assert from "node:assert/strict";
import {
  corePathMatchers,
  describeExpansion,
  escapeCoreName,
  expandCorePattern,
  literalFolder,
  parseCorePattern,
  type PatternPiece,
  type PatternValues,
  pipeArguments,
  truncateComm,
} from "./core_pattern.ts";

const known: PatternValues = {
  pid: 4242,
  globalPid: 4242,
  tid: 4243,
  globalTid: 4243,
  uid: 1000,
  gid: 100,
  signal: 11,
  time: 1_700_000_000,
  hostname: "orin",
  comm: "svc",
  executablePath: "/opt/app/bin/svc",
  coreLimit: Infinity,
  dumpMode: 1,
  cpu: 3,
};

/** The expansion as a string, wildcards as `<x>`. */
function show(pieces: PatternPiece[]): string {
  return pieces.map((p) => p.kind === "text" ? p.text : `<${p.specifier}>`).join("");
}

Deno.test("parseCorePattern() reads a plain absolute pattern as a file strategy", () => {
  assert.deepEqual(parseCorePattern({ pattern: "/var/crash/core.%e.%p", usesPid: false }), {
    kind: "file",
    pattern: "/var/crash/core.%e.%p",
    usesPid: false,
    relative: false,
  });
});

Deno.test("parseCorePattern() treats the default and relative patterns as relative files", () => {
  const strategy = parseCorePattern({ pattern: "core\n", usesPid: true });
  assert.equal(strategy.kind, "file");
  assert.equal(strategy.kind === "file" && strategy.relative, true);
  assert.equal(strategy.pattern, "core");
  const sub = parseCorePattern({ pattern: "cores/core.%p", usesPid: false });
  assert.equal(sub.kind === "file" && sub.relative, true);
});

Deno.test("parseCorePattern() recognises systemd-coredump as a pipe and as a socket", () => {
  const pipe = parseCorePattern({
    pattern: "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
    usesPid: false,
  });
  assert.equal(pipe.kind, "systemd-coredump");
  assert.equal(
    pipe.kind === "systemd-coredump" && pipe.helper,
    "/usr/lib/systemd/systemd-coredump",
  );
  const old = parseCorePattern({
    pattern: "|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h",
    usesPid: false,
  });
  assert.equal(old.kind, "systemd-coredump");
  const socket = parseCorePattern({ pattern: "@@/run/systemd/coredump.socket", usesPid: false });
  assert.equal(socket.kind, "systemd-coredump");
  assert.equal(socket.kind === "systemd-coredump" && socket.helper, "/run/systemd/coredump.socket");
});

Deno.test("parseCorePattern() recognises apport (Ubuntu 22.04 and 24.04 forms)", () => {
  for (
    const pattern of [
      "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E",
      "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -F%F -- %E",
      "|/usr/share/apport/apport %p %s %c %d %P %E",
    ]
  ) {
    const strategy = parseCorePattern({ pattern, usesPid: false });
    assert.equal(strategy.kind, "apport", pattern);
  }
});

Deno.test("parseCorePattern() calls other helpers and sockets unsupported pipes", () => {
  const abrt = parseCorePattern({
    pattern: "|/usr/libexec/abrt-hook-ccpp %s %c %p",
    usesPid: true,
  });
  assert.deepEqual(abrt, {
    kind: "pipe",
    pattern: "|/usr/libexec/abrt-hook-ccpp %s %c %p",
    helper: "/usr/libexec/abrt-hook-ccpp",
  });
  assert.equal(parseCorePattern({ pattern: "@/run/my.sock", usesPid: false }).kind, "pipe");
});

Deno.test("parseCorePattern() knows the patterns that discard every core", () => {
  for (const pattern of ["", "|/bin/false", "|/usr/bin/true", "/dev/null", "|"]) {
    const strategy = parseCorePattern({ pattern, usesPid: false });
    assert.equal(strategy.kind, "none", JSON.stringify(pattern));
  }
  // An empty pattern with core_uses_pid writes ".PID" in the working directory.
  assert.equal(parseCorePattern({ pattern: "", usesPid: true }).kind, "file");
});

Deno.test("pipeArguments() splits on runs of whitespace without quoting", () => {
  assert.deepEqual(pipeArguments("|/usr/bin/helper  %p\t%e   x"), [
    "/usr/bin/helper",
    "%p",
    "%e",
    "x",
  ]);
});

Deno.test("expandCorePattern() expands every specifier of core(5)", () => {
  const pieces = expandCorePattern(
    "/c/%%.%c.%d.%e.%E.%f.%g.%h.%i.%I.%p.%P.%s.%t.%u.%C",
    known,
  );
  assert.deepEqual(pieces, [{
    kind: "text",
    text:
      "/c/%.18446744073709551615.1.svc.!opt!app!bin!svc.svc.100.orin.4243.4243.4242.4242.11.1700000000.1000.3",
  }]);
  assert.equal(
    show(expandCorePattern("core.%c", { ...known, coreLimit: 1 << 20 })),
    "core.1048576",
  );
});

Deno.test("expandCorePattern() makes unknown values wildcards", () => {
  const pieces = expandCorePattern("/var/crash/core.%e.%p.%t.%h.%i.%I.%P.%u.%g.%s.%c.%d.%C.%E.%f", {
    pid: 7,
  });
  assert.equal(
    show(pieces),
    "/var/crash/core.<e>.7.<t>.<h>.<i>.<I>.<P>.<u>.<g>.<s>.<c>.<d>.<C>.<E>.<f>",
  );
  const t = pieces.find((p) => p.kind === "wildcard" && p.specifier === "t");
  assert.equal(t?.kind === "wildcard" && t.regex, "\\d+");
});

Deno.test("expandCorePattern() drops unknown specifiers, a trailing % and %F", () => {
  assert.equal(show(expandCorePattern("core.%q%Z.%F.%p%", known)), "core...4242");
});

Deno.test("expandCorePattern() appends .PID with core_uses_pid only when %p is absent", () => {
  assert.equal(show(expandCorePattern("core", known, { usesPid: true })), "core.4242");
  assert.equal(show(expandCorePattern("core.%e", known, { usesPid: true })), "core.svc.4242");
  assert.equal(show(expandCorePattern("core.%p", known, { usesPid: true })), "core.4242");
  // %P is not %p: the kernel still appends the pid.
  assert.equal(show(expandCorePattern("core.%P", known, { usesPid: true })), "core.4242.4242");
  assert.equal(show(expandCorePattern("core", known, { usesPid: false })), "core");
});

Deno.test("expandCorePattern() cuts %e at 15 bytes and escapes slashes in names", () => {
  const long = { ...known, comm: "a-very-long-service-name" };
  assert.equal(show(expandCorePattern("core.%e", long)), "core.a-very-long-ser");
  assert.equal(show(expandCorePattern("%h", { ...known, hostname: "a/b" })), "a!b");
  assert.equal(show(expandCorePattern("x.%e", { ...known, comm: ".." })), "x.!.");
  assert.equal(show(expandCorePattern("x.%e", { ...known, comm: "" })), "x.!");
});

Deno.test("truncateComm() never splits a UTF-8 character", () => {
  assert.deepEqual(truncateComm("short"), { text: "short", cut: false });
  assert.deepEqual(truncateComm("abcdefghijklmnopq"), { text: "abcdefghijklmno", cut: false });
  // 14 ASCII bytes + "é" (2 bytes): the 15-byte limit falls inside é.
  assert.deepEqual(truncateComm("abcdefghijklmné"), { text: "abcdefghijklmn", cut: true });
  const pieces = expandCorePattern("core.%e", { ...known, comm: "abcdefghijklmné" });
  const [matcher] = corePathMatchers(pieces, "/").slice(-1);
  assert.equal(matcher.kind, "regex");
  assert.ok(matcher.kind === "regex" && matcher.regex.test("core.abcdefghijklmn\uFFFD"));
});

Deno.test("escapeCoreName() follows cn_esc_printf()", () => {
  assert.equal(escapeCoreName("/usr/bin/x"), "!usr!bin!x");
  assert.equal(escapeCoreName("."), "!");
  assert.equal(escapeCoreName(".."), "!.");
  assert.equal(escapeCoreName(""), "!");
  assert.equal(escapeCoreName(".hidden"), ".hidden");
});

Deno.test("corePathMatchers() resolves a relative pattern against the working directory", () => {
  const pieces = expandCorePattern("cores/../core.%p", known);
  assert.deepEqual(corePathMatchers(pieces, "/srv/app"), [
    { kind: "literal", name: "srv" },
    { kind: "literal", name: "app" },
    { kind: "literal", name: "core.4242" },
  ]);
});

Deno.test("corePathMatchers() turns components with wildcards into anchored regexes", () => {
  const pieces = expandCorePattern("/var/crash/%h/core.%e.%p.%t", { pid: 9, comm: "a.b" });
  const matchers = corePathMatchers(pieces, "/ignored");
  assert.deepEqual(matchers.slice(0, 2), [
    { kind: "literal", name: "var" },
    { kind: "literal", name: "crash" },
  ]);
  const [host, file] = matchers.slice(2);
  assert.ok(host.kind === "regex" && host.regex.test("orin") && !host.regex.test("a/b"));
  assert.ok(file.kind === "regex");
  assert.ok(file.regex.test("core.a.b.9.1700000000"));
  assert.ok(!file.regex.test("core.aXb.9.1700000000"), "the dot is literal");
  assert.ok(!file.regex.test("core.a.b.99.1700000000"));
});

Deno.test("describeExpansion() and literalFolder() describe where a core would go", () => {
  const pieces = expandCorePattern("core.%p.%t", { pid: 5 });
  assert.equal(describeExpansion(pieces, "/srv/app/"), "/srv/app/core.5.*");
  assert.equal(literalFolder(pieces, "/srv/app"), "/srv/app");
  assert.equal(literalFolder(expandCorePattern("/var/crash/core", known), "/x"), "/var/crash");
  assert.equal(literalFolder(expandCorePattern("/c/%h/core", { pid: 1 }), "/x"), undefined);
  assert.equal(literalFolder(expandCorePattern("/core", known), "/x"), "/");
});
