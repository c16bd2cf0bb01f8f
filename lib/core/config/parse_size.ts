/**
 * Sizes and percentages as a config writes them: `memory_max = "512M"`, `cpu_max = "150%"`.
 *
 * Sizes follow systemd's `MemoryMax=` and PM2's `max_memory_restart`: `K`, `M`, `G`, `T`
 * (and `KiB`…`TiB`) are powers of 1024; `KB`, `MB`, `GB`, `TB` are powers of 1000; a
 * plain integer, or a number followed by `B`, is bytes. Letters are case-insensitive.
 *
 * @module
 */

const _SIZE = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?b)?|(b))?\s*$/i;
const _POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4 };
const _PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/**
 * Bytes in a size: an integer (bytes), or a string such as `"512M"`, `"1.5G"`, `"64MiB"`,
 * `"100MB"`, `"4096"`; `undefined` when it is none of these. Fractions of a byte are
 * dropped.
 *
 * ```ts
 * parseSize("512M"); // 536870912
 * parseSize("1GB"); // 1000000000
 * ```
 */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = _SIZE.exec(value);
  if (!match) return undefined;
  const [, number, prefix, suffix] = match;
  let bytes = Number(number);
  if (prefix !== undefined) {
    // "K" and "KiB" are binary; "KB" is decimal ("Kb" too: bits are no memory size).
    const base = suffix === undefined || suffix.toLowerCase() === "ib" ? 1024 : 1000;
    bytes *= base ** _POWERS[prefix.toLowerCase()];
  }
  const whole = Math.floor(bytes);
  return Number.isSafeInteger(whole) ? whole : undefined;
}

/**
 * A size as a config can write it back, exactly: `"512M"`, `"1G"`, `"1536K"`, or the
 * plain number of bytes when it is no whole number of KiB.
 */
export function formatSize(bytes: number): string {
  for (const [unit, power] of [["T", 4], ["G", 3], ["M", 2], ["K", 1]] as const) {
    const scale = 1024 ** power;
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}

const _BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** `bytes` in the largest binary unit it reaches: the value and the unit's index in _BINARY_UNITS. */
function _binaryScale(bytes: number): { value: number; unit: number } {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < _BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return { value, unit };
}

/** Bytes for people: `512 B`, `64 MiB`, `1.5 GiB` (one decimal below 100, none above). */
export function describeSize(bytes: number): string {
  const { value, unit } = _binaryScale(bytes);
  if (unit === 0) return `${bytes} B`;
  const text = value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${text} ${_BINARY_UNITS[unit]}`;
}

/**
 * The number in a percentage such as `"50%"` or `"250%"` (more than 100 % is more than
 * one core); `undefined` when `value` is not a string of that form.
 */
export function parsePercent(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = _PERCENT.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** A measured size in binary units, one decimal below 100: `812 B`, `4.0 KiB`, `45.2 MiB`, `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const { value, unit } = _binaryScale(bytes);
  return unit === 0
    ? `${bytes} B`
    : `${value.toFixed(value >= 100 ? 0 : 1)} ${_BINARY_UNITS[unit]}`;
}
