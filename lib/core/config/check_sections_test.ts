import assert from "node:assert/strict";
import { errorFrom, OFFLINE } from "./_test_helpers.ts";
import { parseConfig } from "./load_config.ts";

Deno.test("parseConfig() reads durations as seconds or as strings with units", () => {
  const grace = (value: string) =>
    parseConfig(`[app]\nexecutable = "/bin/x"\nstop_grace = ${value}\n`, OFFLINE).app.stopGraceMs;
  assert.equal(grace("3"), 3000);
  assert.equal(grace("2.5"), 2500);
  assert.equal(grace("0"), 0);
  assert.equal(grace('"500ms"'), 500);
  assert.equal(grace('"10s"'), 10_000);
  assert.equal(grace('"2m"'), 120_000);
  assert.equal(grace('"1h"'), 3_600_000);
  assert.equal(grace('"1.5s"'), 1500);
});

Deno.test("parseConfig() rejects a duration it cannot read", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nstop_grace = "soon"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "stop_grace" in [app] must be a duration (seconds, or a string such as "500ms", "10s" or "2m"), got "soon"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nstop_grace = -1\n'),
    'Invalid config "svc.toml" at line 3, column 1: "stop_grace" in [app] must be a duration (seconds, or a string such as "500ms", "10s" or "2m"), got -1',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmultiline_timeout = "0s"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "multiline_timeout" in [output] must be a positive duration (seconds, or a string such as "500ms", "10s" or "2m"), got "0s"',
  );
});

Deno.test("parseConfig() reports a key defined twice as a syntax error on its second line", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/a"\nexecutable = "/bin/b"\n'),
    'Invalid config "svc.toml" at line 3, column 1: trying to redefine an already defined table or value',
  );
});

Deno.test("parseConfig() reports an unknown key with a did-you-mean at the key's position", () => {
  assert.equal(
    errorFrom('# service\n[app]\nargs = []\n  exectuable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 4, column 3: unknown key "exectuable" in [app] (did you mean "executable"?)',
  );
});

Deno.test("parseConfig() reports an unknown key without a suggestion when nothing is close", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\ncolour = true\n'),
    'Invalid config "svc.toml" at line 4, column 1: unknown key "colour" in [output]',
  );
});

Deno.test("parseConfig() reports an unknown dotted key where the dotted key starts", () => {
  assert.equal(
    errorFrom('\n  app.exectuable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 2, column 3: unknown key "exectuable" in [app] (did you mean "executable"?)',
  );
});

Deno.test("parseConfig() reports an unknown sub-table of a section as an unknown key", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n\n[app.envs]\nA = "1"\n'),
    'Invalid config "svc.toml" at line 4, column 1: unknown key "envs" in [app] (did you mean "env"?)',
  );
});

Deno.test("parseConfig() reports an unknown section with a did-you-mean", () => {
  assert.equal(
    errorFrom('[ap]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown section [ap] (did you mean [app]?)',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[prometheus]\nport = 1\n'),
    'Invalid config "svc.toml" at line 3, column 1: unknown section [prometheus]',
  );
});

Deno.test("parseConfig() says which section a key written before any section belongs to", () => {
  assert.equal(
    errorFrom('executable = "/bin/x"\n[app]\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown top-level key "executable" (did you mean to put it in [app]?)',
  );
  assert.equal(
    errorFrom('verbose = true\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown top-level key "verbose": every key belongs in a section such as [app]',
  );
});

Deno.test("parseConfig() rejects a section that is not a table", () => {
  assert.equal(
    errorFrom('output = 5\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: [output] must be a table, got 5',
  );
});

Deno.test("parseConfig() treats a key named like an Object.prototype property as unknown", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n"__proto__" = 1\n'),
    'Invalid config "svc.toml" at line 3, column 1: unknown key "__proto__" in [app]',
  );
  assert.equal(
    errorFrom('[constructor]\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown section [constructor]',
  );
});

Deno.test("parseConfig() reports a value of the wrong type with the value it got", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = "big"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "max_line_bytes" in [output] must be an integer between 256 and 16777216, got "big"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\ninherit_env = "yes"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "inherit_env" in [app] must be true or false, got "yes"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nargs = "--fast"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "args" in [app] must be an array of strings, got "--fast"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nargs = ["-n", 3]\n'),
    'Invalid config "svc.toml" at line 3, column 1: "args" in [app] must be an array of strings, got ["-n", 3]',
  );
  assert.equal(
    errorFrom("[app]\nexecutable = 42\n"),
    'Invalid config "svc.toml" at line 2, column 1: "executable" in [app] must be a non-empty string, got 42',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = ""\n'),
    'Invalid config "svc.toml" at line 2, column 1: "executable" in [app] must be a non-empty string, got ""',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = "A=1"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "env" in [app] must be a table of strings, got "A=1"',
  );
});

Deno.test("parseConfig() shows tables, dates and special floats TOML-style in type errors", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nuser = { name = "ada", "full name" = "Ada L" }\n'),
    'Invalid config "svc.toml" at line 3, column 1: "user" in [app] must be a non-empty string, got { name = "ada", "full name" = "Ada L" }',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = 1979-05-27\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got 1979-05-27',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = inf\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got inf',
  );
});

Deno.test("parseConfig() enforces integer bounds and rejects fractions", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = 100\n'),
    'Invalid config "svc.toml" at line 4, column 1: "max_line_bytes" in [output] must be an integer between 256 and 16777216, got 100',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = 1.5\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got 1.5',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[redis]\nport = 70000\n'),
    'Invalid config "svc.toml" at line 4, column 1: "port" in [redis] must be an integer between 1 and 65535, got 70000',
  );
  const limits = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = 16777216\n[redis]\nport = 1\n',
    OFFLINE,
  );
  assert.equal(limits.output.maxLineBytes, 16777216);
  assert.equal(limits.redis?.port, 1);
});

Deno.test("parseConfig() points at the environment variable whose value is not a string", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n\n[app.env]\nHOST = "a"\nPORT = 8080\n'),
    'Invalid config "svc.toml" at line 6, column 1: "PORT" in [app.env] must be a string, got 8080',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = { DEBUG = true, HOST = "a" }\n'),
    'Invalid config "svc.toml" at line 3, column 9: "DEBUG" in [app.env] must be a string, got true',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = { "A=B" = "1" }\n'),
    'Invalid config "svc.toml" at line 3, column 9: "A=B" in [app.env] is not a valid environment variable name',
  );
});

Deno.test("parseConfig() reports a missing executable and a missing [app] section", () => {
  assert.equal(
    errorFrom('[app]\nargs = ["-v"]\n'),
    'Invalid config "svc.toml": missing required key "executable" in [app]',
  );
  assert.equal(
    errorFrom("[output]\necho = false\n"),
    'Invalid config "svc.toml": missing required section [app]',
  );
  assert.equal(errorFrom(""), 'Invalid config "svc.toml": missing required section [app]');
});
