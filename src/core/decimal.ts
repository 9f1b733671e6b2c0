/**
 * Exact decimal arithmetic on strings, for the comparisons that must never go through a float:
 * pg `bigint`/`numeric` and mysql2 `DECIMAL` arrive as strings, big JSON numbers as LosslessNumber.
 */
import { isLosslessNumber, LosslessNumber } from 'lossless-json';

/**
 * A decimal as `0.<digits> × 10^exp`, with no leading or trailing zeros in `digits`.
 * Zero is `digits: ''` and never negative, so `-0`, `0.00` and `0e9` are all the same value.
 * Keeping the exponent apart (instead of expanding to a plain string) keeps `1e999999999` cheap.
 */
export interface Decimal {
  readonly neg: boolean;
  readonly digits: string;
  readonly exp: number;
}

const ZERO: Decimal = { neg: false, digits: '', exp: 0 };

/** What a user-chosen `number`/`decimal:N` normalizer also accepts: `+1`, `.5`, `5.`. */
const LENIENT_NUMBER = /^([+-]?)(?=\.?\d)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function fromParts(sign: string, int: string, frac: string, expText: string | undefined): Decimal {
  const all = int + frac;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 48) start++;
  let end = all.length;
  while (end > start && all.charCodeAt(end - 1) === 48) end--;
  if (start === end) return ZERO;
  const exp = int.length + (expText === undefined ? 0 : Number(expText)) - start;
  return { neg: sign === '-', digits: all.slice(start, end), exp };
}

/** Parses a numeric string; `lenient` also accepts surrounding spaces, `+`, `.5` and `5.`. */
export function parseDecimal(text: string, lenient = false): Decimal | undefined {
  if (!lenient) return parseStrictDecimal(text);
  const m = LENIENT_NUMBER.exec(text.trim());
  if (m === null) return undefined;
  return fromParts(m[1] ?? '', m[2] ?? '', m[3] ?? '', m[4]);
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * The strict form (the numeric strings drivers and JSON produce), scanned by character codes:
 * every compared number of every key comes through here, and a regex match allocates an array and
 * a string per group (a tenth of an audit's garbage). Accepts exactly
 * `^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$`: leading zeros allowed, no spaces, no `+`.
 */
function parseStrictDecimal(text: string): Decimal | undefined {
  const length = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const intStart = i;
  while (i < length && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  if (intEnd === intStart) return undefined;
  let fracStart = i;
  let fracEnd = i;
  if (text.charCodeAt(i) === 46) {
    // '.', then at least one digit
    fracStart = ++i;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
    if (fracEnd === fracStart) return undefined;
  }
  let expText: string | undefined;
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    // 'e' or 'E', an optional sign, at least one digit
    const expStart = ++i;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const digitsStart = i;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    if (i === digitsStart) return undefined;
    expText = text.slice(expStart, i);
  }
  if (i !== length) return undefined;
  return fromDigits(text, intStart, intEnd, fracStart, fracEnd, intStart === 1, expText);
}

/** fromParts on index ranges of one string: the integer and fraction digits are not copied out. */
function fromDigits(text: string, intStart: number, intEnd: number, fracStart: number, fracEnd: number, neg: boolean, expText: string | undefined): Decimal {
  // The digits run over [intStart, intEnd) then [fracStart, fracEnd); `at` reads the n-th of them.
  const intLength = intEnd - intStart;
  const total = intLength + (fracEnd - fracStart);
  const at = (n: number): number => text.charCodeAt(n < intLength ? intStart + n : fracStart + n - intLength);
  let start = 0;
  while (start < total && at(start) === 48) start++;
  let end = total;
  while (end > start && at(end - 1) === 48) end--;
  if (start === end) return ZERO;
  const exp = intLength + (expText === undefined ? 0 : Number(expText)) - start;
  let digits: string;
  if (end <= intLength) digits = text.slice(intStart + start, intStart + end);
  else if (start >= intLength) digits = text.slice(fracStart + start - intLength, fracStart + end - intLength);
  else digits = text.slice(intStart + start, intEnd) + text.slice(fracStart, fracStart + end - intLength);
  return { neg, digits, exp };
}

/** True for the types that *are* numbers (as opposed to strings that may hold one). */
export function isNumberLike(value: unknown): value is number | bigint | LosslessNumber {
  return typeof value === 'number' || typeof value === 'bigint' || isLosslessNumber(value);
}

/**
 * The exact decimal of a number-like value, or of a numeric string. A JS number is read through
 * its shortest round-trip form (`String(0.1)` is `0.1`), which is what the JSON text said.
 */
export function toDecimal(value: unknown, lenient = false): Decimal | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? parseDecimal(String(value)) : undefined;
    case 'bigint':
      return parseDecimal(value.toString());
    case 'string':
      return parseDecimal(value, lenient);
    default:
      return isLosslessNumber(value) ? parseDecimal(value.value) : undefined;
  }
}

export function decimalsEqual(a: Decimal, b: Decimal): boolean {
  return a.neg === b.neg && a.exp === b.exp && a.digits === b.digits;
}

export function compareDecimals(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const sa = a.digits === '' ? 0 : a.neg ? -1 : 1;
  const sb = b.digits === '' ? 0 : b.neg ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  let magnitude: -1 | 0 | 1;
  if (a.exp !== b.exp) magnitude = a.exp > b.exp ? 1 : -1;
  // Same exponent: with no trailing zeros, lexicographic order is numeric order ('12' < '123').
  else magnitude = a.digits === b.digits ? 0 : a.digits > b.digits ? 1 : -1;
  return sa > 0 ? magnitude : magnitude === 0 ? 0 : magnitude === 1 ? -1 : 1;
}

/** Beyond this many characters a plain rendering is refused: `1e999999999` must not allocate a GB. */
const MAX_PLAIN_LENGTH = 4096;

/** Plain decimal notation (`1e21` -> `1000000000000000000000`), or undefined when absurdly long. */
export function formatDecimal(d: Decimal): string | undefined {
  if (d.digits === '') return '0';
  const sign = d.neg ? '-' : '';
  const n = d.digits.length;
  if (Math.abs(d.exp) + n > MAX_PLAIN_LENGTH) return undefined;
  if (d.exp <= 0) return `${sign}0.${'0'.repeat(-d.exp)}${d.digits}`;
  if (d.exp >= n) return `${sign}${d.digits}${'0'.repeat(d.exp - n)}`;
  return `${sign}${d.digits.slice(0, d.exp)}.${d.digits.slice(d.exp)}`;
}

/**
 * Rounds half away from zero (PostgreSQL's `round(numeric)`, and "half-up" on magnitudes) to
 * `places` fractional digits, rendered with exactly that many: `2.005` -> `2.01`, `10.5` -> `10.50`.
 */
export function roundDecimal(d: Decimal, places: number): string | undefined {
  if (!Number.isInteger(places) || places < 0 || places > MAX_PLAIN_LENGTH) return undefined;
  if (d.exp > MAX_PLAIN_LENGTH) return undefined;
  // `keep` digits of `digits` lie left of the rounding position.
  const keep = d.exp + places;
  let scaled: bigint;
  if (keep < 0) scaled = 0n;
  else {
    const kept = d.digits.length >= keep ? d.digits.slice(0, keep) : d.digits + '0'.repeat(keep - d.digits.length);
    scaled = kept === '' ? 0n : BigInt(kept);
    if (d.digits.charCodeAt(keep) >= 53 /* '5' */) scaled += 1n;
  }
  let text = scaled.toString();
  if (places > 0) {
    text = text.padStart(places + 1, '0');
    text = `${text.slice(0, -places)}.${text.slice(-places)}`;
  }
  return d.neg && scaled !== 0n ? `-${text}` : text;
}

/** A string that is equal for equal decimals, whatever their magnitude (a sort or map key). */
export function decimalKey(d: Decimal): string {
  return d.digits === '' ? '0' : `${d.neg ? '-' : ''}0.${d.digits}e${d.exp}`;
}

/** The nearest double (Infinity when out of range); for values already known to be small. */
export function decimalToNumber(d: Decimal): number {
  return Number(decimalKey(d));
}

/**
 * How a loader hands over a driver's exact numeric text (pg int8/numeric, mysql2 DECIMAL/BIGINT):
 * as a LosslessNumber, so it compares as a number (exactly) rather than as a string, and a Redis
 * hash field '19.9' equals DECIMAL '19.90'. Text that is not a finite number (NaN) stays text.
 */
export function exactNumber(text: string): LosslessNumber | string {
  return isLosslessNumberText(text) ? new LosslessNumber(text) : text;
}

function isLosslessNumberText(text: string): boolean {
  return /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text);
}
