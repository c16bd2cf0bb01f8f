/**
 * The wrapp command line. The only module that reads `Deno.args` and calls `Deno.exit`.
 *
 * @module
 */

import { cli, reportError } from "./lib/cli/cli.ts";

if (import.meta.main) {
  let code: number;
  try {
    code = await cli(Deno.args);
  } catch (error) {
    const { message, exitCode } = reportError(error);
    console.error(message);
    code = exitCode;
  }
  Deno.exit(code);
}
