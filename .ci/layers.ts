/**
 * Check that imports under lib/ (and main.ts, mod.ts) only go down the layers, and that
 * no feature reaches into another feature.
 *
 *   deno run -A .ci/layers.ts           # deno task layers
 *   deno run -A .ci/layers.ts --summary # only the counts per kind and per pair of folders
 *
 * Every file (and its `_test.ts`) belongs to the first entry of {@linkcode LAYERS} whose path it starts with.
 * A file may import files of its own layer and of the layers listed before it; in the
 * features layer, only files of its own feature and the `mod.ts` of another, as long as no
 * two features end up using each other (directly or around a loop). Static imports, re-exports, type-only
 * imports and literal `import()` are all checked: a lazy import is still a dependency.
 * Exits 1 naming each offending import as `file:line`.
 *
 * @module
 */

import { dirname, join } from "../lib/core/posix_path.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** A layer: the paths (folders end in `/`) it holds; a features layer isolates its entries. */
export interface Layer {
  name: string;
  /** Feature name → paths, for a features layer; a single entry otherwise. */
  parts: Record<string, string[]>;
  features?: boolean;
}

/**
 * The layers, lowest first, each one folder under lib/. A feature is one folder under
 * lib/features/; another feature may use it only through its `mod.ts`.
 */
export const LAYERS: Layer[] = [
  { name: "core", parts: { core: ["lib/core/"] } },
  { name: "pipeline", parts: { pipeline: ["lib/pipeline/"] } },
  {
    name: "features",
    features: true,
    parts: {
      run: ["lib/features/run/"],
      trace: ["lib/features/trace/"],
      memprof: ["lib/features/memprof/"],
      collector: ["lib/features/collector/"],
      record: ["lib/features/record/"],
      doctor: ["lib/features/doctor/"],
      logs: ["lib/features/logs/"],
    },
  },
  { name: "cli", parts: { cli: ["lib/cli/", "main.ts", "mod.ts"] } },
];

/** Where a file sits: its layer's index and its part (the feature, in a features layer). */
interface Place {
  layer: number;
  part: string;
}

/**
 * The place of `path` (relative to the repository), or undefined when no layer holds it.
 * A test sits where the file it tests does.
 */
export function placeOf(path: string, layers: Layer[] = LAYERS): Place | undefined {
  path = path.replace(/_test\.ts$/, ".ts");
  for (const [layer, { parts }] of layers.entries()) {
    for (const [part, paths] of Object.entries(parts)) {
      if (paths.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p)) {
        return { layer, part };
      }
    }
  }
  return undefined;
}

/** One import that breaks the layering. */
export interface Violation {
  file: string;
  line: number;
  target: string;
  why: string;
}

const _IMPORT =
  /(?:\bimport\s*(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s*)?|\bexport\s*(?:type\s+)?[\w$*{}\s,]*?\s+from\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** The relative imports of `text`: specifier and 1-based line. Comments are skipped. */
export function relativeImports(text: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  // Blank out comments, keeping the line breaks so line numbers stay right.
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, " "));
  for (const match of code.matchAll(_IMPORT)) {
    found.push({
      specifier: match[1],
      line: code.slice(0, match.index).split("\n").length,
    });
  }
  return found;
}

/** The violations of the import of `target` by `file`, if any. */
export function judge(file: string, target: string, layers: Layer[] = LAYERS): string | undefined {
  const from = placeOf(file, layers);
  if (!from) return `${file} is in no layer`;
  if (!target.startsWith("lib/") && !["main.ts", "mod.ts"].includes(target)) {
    return undefined; // deno.json, bpf/*.bt: data, not code
  }
  const to = placeOf(target, layers);
  if (!to) return `${target} is in no layer`;
  if (to.layer > from.layer) {
    return `up from ${layers[from.layer].name} to ${layers[to.layer].name}`;
  }
  if (to.layer === from.layer && layers[from.layer].features && to.part !== from.part) {
    const face = layers[to.layer].parts[to.part].map((folder) => `${folder}mod.ts`);
    if (!face.includes(target)) return `across features, from ${from.part} to ${to.part}`;
  }
  return undefined;
}

/** Every violation in the repository at `root`. */
export async function checkLayers(root = ROOT, layers: Layer[] = LAYERS): Promise<Violation[]> {
  const files: string[] = ["main.ts", "mod.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(`${root}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk("lib");
  const violations: Violation[] = [];
  const featureUses: { from: string; to: string; file: string; line: number; target: string }[] =
    [];
  for (const file of files.sort()) {
    const text = await Deno.readTextFile(`${root}${file}`);
    if (!placeOf(file, layers)) {
      violations.push({ file, line: 1, target: "", why: `${file} is in no layer` });
      continue;
    }
    for (const { specifier, line } of relativeImports(text)) {
      const target = join(dirname(file), specifier);
      const why = judge(file, target, layers);
      if (why) violations.push({ file, line, target, why });
      const from = placeOf(file, layers), to = placeOf(target, layers);
      if (!why && from && to && layers[from.layer].features && to.part !== from.part) {
        featureUses.push({ from: from.part, to: to.part, file, line, target });
      }
    }
  }
  return [...violations, ...featureLoops(featureUses)];
}

/** The uses of one feature by another that close a loop: features must form a tree. */
export function featureLoops(
  uses: { from: string; to: string; file: string; line: number; target: string }[],
): Violation[] {
  const reaches = (start: string, goal: string, seen = new Set<string>()): boolean =>
    start === goal ||
    uses.some((u) =>
      u.from === start && !seen.has(u.to) && (seen.add(u.to), reaches(u.to, goal, seen))
    );
  return uses.filter((u) => reaches(u.to, u.from)).map(({ file, line, target, from, to }) => ({
    file,
    line,
    target,
    why: `features ${from} and ${to} use each other`,
  }));
}

if (import.meta.main) {
  const violations = await checkLayers();
  const summary = Deno.args.includes("--summary");
  if (!summary) {
    for (const v of violations) console.log(`${v.file}:${v.line}: imports ${v.target}: ${v.why}`);
  }
  const byKind = new Map<string, number>();
  for (const v of violations) byKind.set(v.why, (byKind.get(v.why) ?? 0) + 1);
  for (const [why, count] of [...byKind].sort((a, b) => b[1] - a[1])) {
    console.log(`${String(count).padStart(5)}  ${why}`);
  }
  console.log(
    violations.length === 0
      ? "layers: ok, every import goes down a layer or stays in its feature"
      : `layers: ${violations.length} imports break the layering`,
  );
  Deno.exit(violations.length === 0 ? 0 : 1);
}
