/**
 * Event times in a Trace Event Format file: µs, from wrapp's ms since the epoch.
 *
 * @module
 */

/**
 * ms since the epoch → TEF µs, rounded to 3 decimals (ns). Whole ms and the fraction are
 * scaled apart: `ms * 1e6` would exceed 2^53 and turn 2 ms into 1999.8 µs. At epoch
 * magnitude a double still resolves only ~0.25 µs, which is finer than the event times.
 */
export function tefMicroseconds(ms: number): number {
  const whole = Math.floor(ms);
  return whole * 1000 + Math.round((ms - whole) * 1_000_000) / 1000;
}
