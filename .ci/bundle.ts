/**
 * Bundle wrapp into the JavaScript the binary embeds: `deno bundle` of main.ts, minified,
 * split at every `import()` so each command still loads only what it needs.
 *
 *   deno run -A .ci/bundle.ts dist/bundle     # deno task bundle
 *   deno run -A dist/bundle/main.js --help    # the bundle runs as wrapp does
 *
 * Why a bundle: deno compile of main.ts embedded every module and npm package file as it
 * is on disk (7.99 MiB, most of it npm packages' unused files), and the binary parsed
 * hundreds of modules at start. The bundle holds only the code main.ts reaches, minified:
 * under 1 MiB, and a wrapped idle service starts faster and keeps less memory (README,
 * "What wrapp costs on the robot").
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Packages an npm package imports only in a mode wrapp never enables: ink loads
 * react-devtools-core when `DEV=true`, and it is not installed. Left as an `import()`
 * that fails in that mode, as it did before the bundle.
 */
const EXTERNAL = ["react-devtools-core"];

/** Thrown when `deno bundle` fails; its output says why. */
export class BundleError extends Error {
  /** deno bundle's output. */
  readonly output: string;
  constructor(output: string) {
    super(`deno bundle of main.ts failed:\n${output}`);
    this.name = "BundleError";
    this.output = output;
  }
}

/** Bundle main.ts into `outdir` (emptied first); resolves to the paths of the files written. */
export async function bundleWrapp(outdir: string): Promise<string[]> {
  await Deno.remove(outdir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=deno",
      "--code-splitting",
      "--minify",
      // Error classes set their own name, but a stack trace is read by people.
      "--keep-names",
      ...EXTERNAL.map((name) => `--external=${name}`),
      "--outdir",
      outdir,
      "main.ts",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new BundleError(text);
  const files: string[] = [];
  for await (const entry of Deno.readDir(outdir)) {
    if (entry.isFile) files.push(`${outdir}/${entry.name}`);
  }
  if (!files.some((file) => file.endsWith("/main.js"))) {
    throw new BundleError(`no main.js in ${outdir}:\n${text}`);
  }
  return files.sort();
}

if (import.meta.main) {
  const outdir = Deno.args[0];
  if (!outdir || Deno.args.length > 1) {
    console.error("usage: deno run -A .ci/bundle.ts OUTDIR");
    Deno.exit(2);
  }
  try {
    const files = await bundleWrapp(outdir);
    let bytes = 0;
    for (const file of files) bytes += (await Deno.stat(file)).size;
    console.log(
      `${outdir}/main.js and ${files.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB`,
    );
  } catch (error) {
    console.error(error instanceof BundleError ? error.message : error);
    Deno.exit(1);
  }
}
