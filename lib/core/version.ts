/**
 * wrapp's version, taken from deno.json so there is one place to bump it.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/**
 * The version printed by `wrapp --version` and sent in status events.
 *
 * @example Naming the version in a report
 * ```ts
 * import { VERSION } from "@wrapp/wrapp";
 *
 * console.log(`wrapp ${VERSION}`);
 * ```
 */
export const VERSION: string = denoJson.version;
