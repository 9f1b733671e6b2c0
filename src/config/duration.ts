/**
 * Durations in rules files: `<number><unit>`, unit one of ms, s, m, h, d (`300s`, `1.5m`).
 * A bare number is never accepted: `ttl: 300` could mean seconds or milliseconds, and guessing
 * wrong by a factor of 1000 silently changes every verdict.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_UNITS = Object.keys(UNIT_MS) as readonly (keyof typeof UNIT_MS)[];

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Milliseconds for a duration string, or undefined when it is not one. Fractions are allowed
 * as long as the result is a whole number of milliseconds (`1.5s` yes, `0.5ms` no), so the
 * classifier only ever sees integers.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  const [, amount, unit] = match;
  if (amount === undefined || unit === undefined) return undefined;
  const ms = Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  // Number('1.1') * 1000 is 1100.0000000000002: round away float noise before judging wholeness.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6 || !Number.isSafeInteger(rounded)) return undefined;
  return rounded;
}
