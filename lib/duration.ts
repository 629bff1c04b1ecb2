/**
 * Durations as every command takes them: a whole number with its unit, `500ms`,
 * `5s`, `10m`, `1h`, `3d`. A bare number is not one: its unit would be a guess
 * (milliseconds in one place, minutes in another).
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `text` in milliseconds, or undefined when it is not a whole number with a unit. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

/** Milliseconds in the largest unit that writes them whole: 5000 -> `5s`, 90 minutes -> `90m`. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) if (ms > 0 && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  return `${ms}ms`;
}
