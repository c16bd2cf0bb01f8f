/**
 * wrapp's version, taken from deno.json so there is one place to bump it.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** The version printed by `wrapp --version` and sent in status events. */
export const VERSION: string = denoJson.version;
