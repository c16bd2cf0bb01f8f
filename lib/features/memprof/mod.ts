/**
 * What other features may use of memprof: the page-level memory profile of a supervised
 * service (a config's `[memprof]` section), started by `wrapp run`.
 *
 * @module
 */

export { type ServiceMemprof, startServiceMemprof } from "./service_memprof.ts";
