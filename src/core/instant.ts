/**
 * Instants with more than a Date's precision, and the forms other languages' services write them
 * in. A PostgreSQL or MySQL timestamp has microseconds; Python's `isoformat()` writes six fraction
 * digits, Go's RFC 3339 nine, Java epoch milliseconds, PHP `Y-m-d H:i:s` none. Two instants are
 * compared at the precision of the coarser side, so a JS writer's milliseconds match a
 * microsecond column, while a difference in any digit both sides carry is a difference.
 */
import type { Decimal } from './decimal.js';
import { toDecimal } from './decimal.js';
import { parseTimestampParts } from './timestamp.js';
import { zoneOffsetMs } from './time-zone.js';

export interface Instant {
  /** Epoch milliseconds, floored. */
  ms: number;
  /** Nanoseconds within that millisecond, 0..999999. */
  nanos: number;
  /** Fraction-of-second digits the form carried (0..9): the precision to compare at. */
  digits: number;
}

/**
 * A Date that also carries the sub-millisecond digits of the value it was read from (the SQL
 * loaders build these from timestamp text). Everything that takes a Date still works with it.
 */
export class PreciseDate extends Date {
  constructor(
    epochMs: number,
    readonly nanosOfMs: number,
    readonly fractionDigits: number,
  ) {
    super(epochMs);
  }
}

/** The instant of an ISO/SQL timestamp text; a zone-less text is wall-clock time in `zone` (default UTC). */
export function parseInstant(text: string, zone?: string): Instant | undefined {
  const parts = parseTimestampParts(text);
  if (parts === undefined) return undefined;
  const ms = parts.offsetMs === undefined ? wallToUtc(parts.wallMs, zone) : parts.wallMs - parts.offsetMs;
  return ms === undefined ? undefined : { ms, nanos: parts.nanos, digits: parts.digits };
}

/** Epoch ms of a wall-clock time (as if UTC) in `zone`. */
export function wallToUtc(wallMs: number, zone: string | undefined): number | undefined {
  if (zone === undefined) return wallMs;
  const first = zoneOffsetMs(zone, wallMs);
  if (first === undefined) return undefined;
  const guess = wallMs - first;
  // Near a DST change the offset at the guessed instant may differ: one more step settles it.
  const second = zoneOffsetMs(zone, guess);
  return second === undefined || second === first ? guess : wallMs - second;
}

/** A PreciseDate for a timestamp text read from a database (undefined when it is not one). */
export function preciseDateOf(text: string, zone?: string): PreciseDate | undefined {
  const instant = parseInstant(text, zone);
  return instant === undefined ? undefined : new PreciseDate(instant.ms, instant.nanos, instant.digits);
}

/**
 * Epoch numbers: the magnitude says the unit. Below 1e11 seconds (1e11 s is the year 5138), below
 * 1e14 milliseconds, below 1e17 microseconds, else nanoseconds (Go's UnixNano).
 */
const EPOCH_UNITS: readonly { below: number; exp: number; shift: number }[] = [
  { below: 1e11, exp: 11, shift: 9 },
  { below: 1e14, exp: 14, shift: 6 },
  { below: 1e17, exp: 17, shift: 3 },
  { below: Infinity, exp: Infinity, shift: 0 },
];

/** The instant of an epoch number in s, ms, µs or ns (by magnitude), with the digits it carries. */
export function instantFromEpoch(d: Decimal): Instant | undefined {
  // 0.digits × 10^exp < 10^k exactly when exp <= k.
  const unit = EPOCH_UNITS.find((u) => d.exp <= u.exp) ?? { shift: 0 };
  // As nanoseconds: digits beyond the nanosecond are cut.
  const fracDigits = Math.max(0, d.digits.length - d.exp);
  const nsExp = d.exp + unit.shift;
  if (nsExp > 25) return undefined;
  let whole: bigint;
  if (d.digits === '') whole = 0n;
  else if (nsExp <= 0) whole = d.neg ? -1n : 0n;
  else {
    const intText = d.digits.length >= nsExp ? d.digits.slice(0, nsExp) : d.digits.padEnd(nsExp, '0');
    const cut = d.digits.length > nsExp;
    whole = BigInt(intText);
    if (d.neg) whole = -whole - (cut ? 1n : 0n);
  }
  const ms = whole / 1_000_000n - (whole % 1_000_000n < 0n ? 1n : 0n);
  const nanos = Number(whole - ms * 1_000_000n);
  const msNumber = Number(ms);
  if (Math.abs(msNumber) > 8.64e15) return undefined;
  // Seconds with 3 fraction digits carry milliseconds: the unit's own digits plus the fraction's.
  const digits = Math.min(9, 9 - unit.shift + fracDigits);
  return { ms: msNumber, nanos, digits };
}

/**
 * The instant a cache or source value stands for: a Date (a PreciseDate keeps its digits), an
 * ISO/SQL text (zone-less in `zone`), an epoch number or numeric text, or PHP's serialized
 * DateTime (`{"date": "2024-05-01 10:00:00.000000", "timezone": "Europe/Paris"}`).
 */
export function instantOf(value: unknown, zone?: string): Instant | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return undefined;
    return value instanceof PreciseDate ? { ms, nanos: value.nanosOfMs, digits: value.fractionDigits } : { ms, nanos: 0, digits: 3 };
  }
  if (typeof value === 'string') {
    const parsed = parseInstant(value.trim(), zone);
    if (parsed !== undefined) return parsed;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return phpDateTime(value as Record<string, unknown>);
  const d = toDecimal(value);
  return d === undefined ? undefined : instantFromEpoch(d);
}

function phpDateTime(value: Record<string, unknown>): Instant | undefined {
  const { date, timezone } = value;
  if (typeof date !== 'string' || typeof timezone !== 'string') return undefined;
  return parseInstant(date, timezone);
}

/** Equal at the precision of the coarser side. */
export function instantsEqual(a: Instant, b: Instant): boolean {
  const digits = Math.min(a.digits, b.digits);
  if (digits >= 3) {
    if (a.ms !== b.ms) return false;
    const unit = 10 ** (9 - digits);
    return Math.floor(a.nanos / unit) === Math.floor(b.nanos / unit);
  }
  const unit = 10 ** (3 - digits);
  return Math.floor(a.ms / unit) === Math.floor(b.ms / unit);
}

/** An instant as ISO 8601 with the digits it carries (for diffs). */
export function formatInstant(i: Instant): string {
  const base = new Date(i.ms).toISOString(); // ...T10:00:00.123Z
  if (i.digits <= 3) return i.digits === 0 ? `${base.slice(0, 19)}Z` : `${base.slice(0, 20 + i.digits)}Z`;
  const fraction = `${base.slice(20, 23)}${String(i.nanos).padStart(6, '0')}`.slice(0, i.digits);
  return `${base.slice(0, 19)}.${fraction}Z`;
}
