/**
 * Build the wrapp binary with `deno compile` from the bundle of main.ts (.ci/bundle.ts),
 * or check what such a build embeds.
 *
 *   deno run -A .ci/compile.ts --target aarch64-unknown-linux-gnu --output dist/wrapp-aarch64
 *   deno run -A .ci/compile.ts --check        # deno task compile:check
 *
 * The binary embeds the bundle only: minified JavaScript split at each `import()`, holding
 * the code main.ts reaches (npm packages included) and nothing else. Type declarations,
 * test-only packages (playwright-core: 13.3 MB) and the unused files of npm packages never
 * reach it. The bpftrace programs and the memprof page are text in the bundle.
 *
 * `--check` compiles for this machine with DENORT_BIN pointed at the deno binary, so it
 * needs no download; that output is only the deno CLI with the files appended and cannot
 * run as wrapp, so it is deleted. It reads the list of embedded files deno compile prints
 * and fails when they exceed the budget, when anything but the bundle is embedded, or when
 * a bpftrace program or the memprof page is missing from the bundle.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { bundleWrapp } from "./bundle.ts";
import { V8_FLAGS } from "./v8_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MiB = 1024 * 1024;

/** Budget for the embedded files (issue "Light on the robot": 4 MB); the bundle takes ~0.9 MiB. */
const BUDGET_BYTES = 4_000_000;

/** Files whose text the bundle must carry, and what each one is. */
const REQUIRED_TEXT: Record<string, string> = {
  "bpf/syscalls.bt": "the bpftrace program of wrapp trace and [trace]",
  "bpf/fatal_signal.bt": "the bpftrace program of the crash backtrace (bpftrace fallback)",
  "bpf/memprof.bt": "the bpftrace program of wrapp memprof",
  "lib/features/memprof/page/": "the memprof page",
};

/**
 * Unstable Deno features the binary needs, and what for. The bundle is compiled without
 * deno.json, so they are passed as flags; the check reads them back from the binary.
 */
const UNSTABLE: Record<string, string> = {
  net: "Deno.listenDatagram, the [watchdog] notify socket",
};

/** The unstable features in the metadata deno compile wrote into `binary` (JSON text in it). */
async function _unstableFeatures(binary: string): Promise<string[]> {
  const text = new TextDecoder("latin1").decode(await Deno.readFile(binary));
  const match = /"unstable_config":\{[^{}]*"features":(\[[^\]]*\])/.exec(text);
  return match ? JSON.parse(match[1]) : [];
}

async function _deno(args: string[], env?: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`deno ${args.slice(0, 2).join(" ")} failed:\n${text}`);
  return text;
}

function _compileArgs(output: string, target: string | undefined, bundleDir: string): string[] {
  return [
    "compile",
    "-A",
    // The bundle is plain JavaScript with no bare specifiers left; deno task check has
    // type-checked the sources it comes from.
    "--no-config",
    "--no-check",
    ...Object.keys(UNSTABLE).map((feature) => `--unstable-${feature}`),
    ...(V8_FLAGS.length > 0 ? [`--v8-flags=${V8_FLAGS.join(",")}`] : []),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    `${bundleDir}/main.js`,
  ];
}

/** One line of deno compile's "Embedded Files" tree. */
interface _Embedded {
  path: string;
  bytes: number;
}

const _UNITS: Record<string, number> = { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB };

/** Parse deno compile's tree of embedded files into paths and sizes. */
function _parseTree(text: string): { files: _Embedded[]; totalBytes: number } {
  const files: _Embedded[] = [];
  const stack: string[] = [];
  for (const line of text.split("\n")) {
    const match = line.match(/^([│ ]*)[├└]─([┬─]) (.+?) \(([\d.]+)(B|KB|MB|GB)(?: - [^)]*)?\)$/);
    if (!match) continue;
    const depth = match[1].length / 2;
    stack.length = depth;
    stack.push(match[3].replace(/\/\*$/, ""));
    if (match[2] === "─") {
      files.push({ path: stack.join("/"), bytes: Number(match[4]) * _UNITS[match[5]] });
    }
  }
  const total = text.match(/^Files: ([\d.]+)(B|KB|MB|GB)$/m);
  if (!total) throw new Error(`No "Files:" total in the output of deno compile:\n${text}`);
  return { files, totalBytes: Number(total[1]) * _UNITS[total[2]] };
}

function _format(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * The lines of `path` (a file, or every file of a folder) that must appear in the bundle
 * as they are: the minifier keeps text in template literals, but escapes backslashes,
 * backticks, `${` and non-ASCII characters and may re-quote a line holding quotes, so
 * those lines are skipped.
 */
async function _requiredLines(path: string): Promise<string[]> {
  const files: string[] = [];
  if (path.endsWith("/")) {
    for await (const entry of Deno.readDir(`${ROOT}${path}`)) {
      if (entry.isFile) files.push(`${ROOT}${path}${entry.name}`);
    }
  } else {
    files.push(`${ROOT}${path}`);
  }
  const lines: string[] = [];
  for (const file of files) {
    for (const line of (await Deno.readTextFile(file)).split("\n")) {
      const trimmed = line.trim();
      if (trimmed.length >= 12 && !/[\\`"'\u0080-\uffff]|\$\{/.test(trimmed)) lines.push(trimmed);
    }
  }
  return lines;
}

/** What is wrong with the bundle in `bundleDir`: required text it lacks. */
async function _missingText(bundleDir: string): Promise<string[]> {
  let text = "";
  for await (const entry of Deno.readDir(bundleDir)) {
    if (entry.isFile) text += await Deno.readTextFile(`${bundleDir}/${entry.name}`);
  }
  const problems: string[] = [];
  for (const [path, what] of Object.entries(REQUIRED_TEXT)) {
    const lines = await _requiredLines(path);
    const missing = lines.filter((line) => !text.includes(line));
    if (lines.length === 0 || missing.length > 0) {
      problems.push(
        `${path} (${what}) is not in the bundle` +
          (missing.length > 0
            ? `: ${missing.length} of its lines are missing, e.g. "${missing[0]}"`
            : ""),
      );
    }
  }
  for (const bt of await _btFiles()) {
    if (!(`bpf/${bt}` in REQUIRED_TEXT)) {
      problems.push(`bpf/${bt} is not in the list of files the binary must embed`);
    }
  }
  return problems;
}

async function _check(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-compile-check-" });
  try {
    const bundleDir = `${dir}/bundle`;
    const bundled = await bundleWrapp(bundleDir);
    const text = await _deno(_compileArgs(`${dir}/wrapp`, undefined, bundleDir), {
      DENORT_BIN: Deno.execPath(),
    });
    const { files, totalBytes } = _parseTree(text);
    const problems = await _missingText(bundleDir);
    const features = await _unstableFeatures(`${dir}/wrapp`);
    for (const [feature, what] of Object.entries(UNSTABLE)) {
      if (!features.includes(feature)) {
        problems.push(`the unstable feature "${feature}" (${what}) is not on in the binary`);
      }
    }
    if (totalBytes > BUDGET_BYTES) {
      problems.push(`the embedded files take ${_format(totalBytes)}, over the 4 MB budget`);
    }
    const names = new Set(bundled.map((file) => file.slice(bundleDir.length + 1)));
    const extra = files.filter((file) => !names.has(file.path.split("/").pop()!));
    if (extra.length > 0) {
      problems.push(
        `${extra.length} embedded files are not part of the bundle, e.g. ${extra[0].path}`,
      );
    }

    const main = files.find((file) => file.path.endsWith("main.js"));
    console.log(
      `deno compile embeds ${_format(totalBytes)} (budget 4 MB): the bundle's main.js ` +
        `(${_format(main?.bytes ?? 0)}) and ${files.length - 1} chunks loaded on demand`,
    );
    for (const [path, what] of Object.entries(REQUIRED_TEXT)) {
      console.log(`  in the bundle: ${path} (${what})`);
    }
    console.log(`  unstable: ${features.join(", ") || "none"}`);
    if (problems.length > 0) {
      console.log(`\n${text}`);
      for (const problem of problems) console.log(`compile check: ${problem}`);
      return 1;
    }
    console.log("compile check: ok");
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function _btFiles(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}bpf`)) {
    if (entry.isFile && entry.name.endsWith(".bt")) names.push(entry.name);
  }
  return names;
}

async function _build(target: string | undefined, output: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-bundle-" });
  try {
    await bundleWrapp(dir);
    const status = await new Deno.Command(Deno.execPath(), {
      args: _compileArgs(output, target, dir),
      cwd: ROOT,
    }).spawn().status;
    return status.code;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      check: { type: "boolean" },
      target: { type: "string" },
      output: { type: "string" },
    },
  });
  if (values.check) Deno.exit(await _check());
  if (!values.output) {
    console.error("usage: .ci/compile.ts (--check | [--target TRIPLE] --output FILE)");
    Deno.exit(2);
  }
  Deno.exit(await _build(values.target, values.output));
}
