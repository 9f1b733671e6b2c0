/**
 * `tolerance:` (a counter kept with INCR may lag its source): two numbers are equal when
 * |cache − source| ≤ amount, or ≤ ratio × |source|. Absolute amounts are compared exactly, in
 * decimal (a lag of 2 on a bigint past 2^53 is still 2); ratios in doubles, which is the precision
 * a percentage is written with.
 */
import type { ColumnType } from './column-type.js';
import { toDecimal, type Decimal } from './decimal.js';
import type { Tolerance } from './rule.js';

/** The tolerance of `field`: its own entry, else the family's `*`. */
export function toleranceFor(tolerance: Readonly<Record<string, Tolerance>> | undefined, field: string): Tolerance | undefined {
  if (tolerance === undefined) return undefined;
  if (Object.hasOwn(tolerance, field)) return tolerance[field];
  return Object.hasOwn(tolerance, '*') ? tolerance['*'] : undefined;
}

const NUMERIC_KINDS: ReadonlySet<string> = new Set(['integer', 'decimal', 'float8', 'float4']);

/**
 * Whether the tolerance found for `field` may apply to it. A field named in `tolerance:` always
 * (`{ likes: 2 }` on `payload->>'likes'`, a text column, means that number). The family-wide `*`
 * (`tolerance: 5`) only to numeric columns: a text column holding digits (a zip code, a phone
 * number, an SKU) is no counter, and `10001` cached for `10002` is a difference. Without a type
 * (a module loader, `other`) the values decide.
 */
export function toleranceApplies(tolerance: Readonly<Record<string, Tolerance>> | undefined, field: string, type: ColumnType | undefined): boolean {
  if (tolerance !== undefined && Object.hasOwn(tolerance, field)) return true;
  return type === undefined || type.kind === 'other' || NUMERIC_KINDS.has(type.kind);
}

/** Beyond this many digits the exact path is refused (a `1e999999` must not allocate); doubles decide. */
const MAX_EXACT_DIGITS = 400;

/** `d` as an integer scaled by 10^scale, when that stays small. */
function scaled(d: Decimal, scale: number): bigint | undefined {
  if (d.digits === '') return 0n;
  const zeros = scale + d.exp - d.digits.length;
  if (zeros < 0 || zeros + d.digits.length > MAX_EXACT_DIGITS) return undefined;
  const magnitude = BigInt(d.digits + '0'.repeat(zeros));
  return d.neg ? -magnitude : magnitude;
}

/** Fractional digits `d` needs. */
function scaleOf(d: Decimal): number {
  return Math.max(0, d.digits.length - d.exp);
}

/**
 * True when both values are finite numbers (numbers, bigints, LosslessNumbers, numeric texts such
 * as a Redis score or a Python `json.dumps` float) within `tolerance` of each other. Anything else
 * (text, null, NaN, infinities) is never within a tolerance: those compare as they are.
 */
export function withinTolerance(tolerance: Tolerance, cache: unknown, source: unknown): boolean {
  const c = toDecimal(typeof cache === 'string' ? cache.trim() : cache);
  const s = toDecimal(typeof source === 'string' ? source.trim() : source);
  if (c === undefined || s === undefined) return false;
  if (tolerance.kind === 'absolute') {
    const amount = toDecimal(tolerance.amount);
    if (amount === undefined) return false;
    const scale = Math.max(scaleOf(c), scaleOf(s), scaleOf(amount));
    const [a, b, t] = [scaled(c, scale), scaled(s, scale), scaled(amount, scale)];
    if (a !== undefined && b !== undefined && t !== undefined) {
      const gap = a - b;
      return (gap < 0n ? -gap : gap) <= t;
    }
    return Math.abs(Number(decimalText(c)) - Number(decimalText(s))) <= Number(tolerance.amount);
  }
  const cn = Number(decimalText(c));
  const sn = Number(decimalText(s));
  if (!Number.isFinite(cn) || !Number.isFinite(sn)) return false;
  const gap = Math.abs(cn - sn);
  const allowed = tolerance.ratio * Math.abs(sn);
  // 1% of 300 is 3.0000000000000004 in doubles: the last bit must not decide a lag of exactly 3.
  return gap <= allowed * (1 + 1e-12);
}

function decimalText(d: Decimal): string {
  return d.digits === '' ? '0' : `${d.neg ? '-' : ''}0.${d.digits}e${d.exp}`;
}

/** `5` or `1%`, as the rules file wrote it (for diffs and `explain`). */
export function toleranceText(tolerance: Tolerance): string {
  return tolerance.kind === 'absolute' ? tolerance.amount : `${Number((tolerance.ratio * 100).toPrecision(12))}%`;
}
