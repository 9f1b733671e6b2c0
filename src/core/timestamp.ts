/**
 * Timestamps as epoch milliseconds. Drivers hand out `Date`s (pg timestamp/timestamptz, mysql2
 * DATETIME) while caches hold ISO strings, SQL-style strings or epoch numbers; all meet here.
 */
import type { Decimal } from './decimal.js';

/** The range of a JS Date; anything outside is not a timestamp. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * ISO 8601 and the SQL forms pg/MySQL print: `2024-05-01T10:00:00.123456Z`,
 * `2024-05-01 10:00:00+02`, `2024-05-01 10:00:00`, `2024-05-01`. pg may print an offset with
 * seconds (`+00:53:28`, historic local mean time), so that is accepted too. The grammar is
 *   ^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?
 *    (?: ?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?))?$
 * scanned by character codes rather than matched: every timestamp column of every row and every
 * cached timestamp comes through here, and a match allocates an array and a string per group.
 * Every part is fixed-width, so reading greedily left to right accepts what the regex accepts.
 */
/** A timestamp text taken apart: its wall-clock time as if UTC, its sub-ms digits, and its offset if it has one. */
export interface TimestampParts {
  /** The wall-clock time read as UTC, epoch ms. */
  wallMs: number;
  /** Nanoseconds within the millisecond, from fraction digits 4 to 9. */
  nanos: number;
  /** How many fraction-of-second digits the text had (at most 9 are kept). */
  digits: number;
  /** The text's own UTC offset, ms; undefined when it has none. */
  offsetMs: number | undefined;
}

/** The number `count` decimal digits at `at` spell, or -1 when one of them is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48; // NaN past the end
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const COLON = 58;

export function parseTimestampParts(text: string): TimestampParts | undefined {
  const length = text.length;
  if (length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined; // '-'
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  let i = 10;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fractionStart = 0;
  let fractionEnd = 0;
  const separator = text.charCodeAt(10);
  if (separator === 84 || separator === 116 || separator === 32) {
    // 'T', 't' or ' ', then HH:MM, optionally :SS and a fraction
    const h = digitsAt(text, 11, 2);
    const m = digitsAt(text, 14, 2);
    if (h >= 0 && text.charCodeAt(13) === COLON && m >= 0) {
      hour = h;
      minute = m;
      i = 16;
      const s = digitsAt(text, 17, 2);
      if (text.charCodeAt(16) === COLON && s >= 0) {
        second = s;
        i = 19;
        const point = text.charCodeAt(19);
        if ((point === 46 || point === 44) && digitsAt(text, 20, 1) >= 0) {
          fractionStart = 20;
          i = 21;
          while (digitsAt(text, i, 1) >= 0) i++;
          fractionEnd = i;
        }
      }
    }
  }
  let offsetMs: number | undefined;
  if (i < length) {
    if (text.charCodeAt(i) === 32) i++;
    const zone = text.charCodeAt(i);
    if (zone === 90 || zone === 122) {
      // 'Z' or 'z'
      offsetMs = 0;
      i++;
    } else if (zone === 43 || zone === 45) {
      // '+' or '-', HH, then optionally [:]MM and [:]SS
      const offsetHours = digitsAt(text, i + 1, 2);
      if (offsetHours < 0) return undefined;
      i += 3;
      let offsetMinutes = 0;
      let offsetSeconds = 0;
      let at = text.charCodeAt(i) === COLON ? i + 1 : i;
      const mm = digitsAt(text, at, 2);
      if (mm >= 0) {
        offsetMinutes = mm;
        i = at + 2;
        at = text.charCodeAt(i) === COLON ? i + 1 : i;
        const ss = digitsAt(text, at, 2);
        if (ss >= 0) {
          offsetSeconds = ss;
          i = at + 2;
        }
      }
      const size = ((offsetHours * 60 + offsetMinutes) * 60 + offsetSeconds) * 1000;
      offsetMs = zone === 45 ? -size : size;
    } else {
      return undefined;
    }
  }
  if (i !== length) return undefined;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined; // 2024-02-30 is not a day
  // Fraction digits 1-3 are the milliseconds, 4-9 the nanoseconds within it; the rest is dropped.
  const fractionLength = fractionEnd - fractionStart;
  const fractionDigit = (n: number): number => (n < fractionLength ? text.charCodeAt(fractionStart + n) - 48 : 0);
  const ms = fractionDigit(0) * 100 + fractionDigit(1) * 10 + fractionDigit(2);
  let wallMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; shift back for the rare genuine year 0042.
  if (year < 100) wallMs = new Date(wallMs).setUTCFullYear(year);
  const digits = Math.min(9, fractionLength);
  let nanos = 0;
  if (digits > 3) for (let n = 3; n < 9; n++) nanos = nanos * 10 + fractionDigit(n);
  return { wallMs, nanos, digits, offsetMs };
}

/**
 * Epoch ms of an ISO/SQL timestamp string, or undefined. A string without zone is read as UTC:
 * the audit must not depend on the host's TZ. Sub-millisecond digits are truncated, as pg's
 * microseconds cannot be held by a Date either.
 */
export function parseTimestamp(text: string): number | undefined {
  const parts = parseTimestampParts(text);
  if (parts === undefined) return undefined;
  const epoch = parts.wallMs - (parts.offsetMs ?? 0);
  return Math.abs(epoch) <= MAX_EPOCH_MS ? epoch : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * `d × 10^shift`, floored to an integer (floor, not trunc, so that pre-1970 values truncate the
 * same way an ISO fraction does), when it fits a Date.
 */
export function floorScaled(d: Decimal, shift: number): number | undefined {
  if (d.digits === '') return 0;
  const e = d.exp + shift;
  if (e > 16) return undefined;
  if (e <= 0) return d.neg ? -1 : 0;
  const whole = Number(d.digits.length >= e ? d.digits.slice(0, e) : d.digits.padEnd(e, '0'));
  const result = d.neg ? -whole - (d.digits.length > e ? 1 : 0) : whole;
  return Math.abs(result) <= MAX_EPOCH_MS ? result : undefined;
}

/**
 * Below this magnitude an epoch number is read as seconds, at or above it as milliseconds.
 * 1e11 s is the year 5138; 1e11 ms is 1973-03-03. So epoch-ms values before March 1973 would be
 * misread as seconds, a trade worth making: no cache holds such timestamps in ms.
 */
export const EPOCH_SECONDS_BELOW = 1e11;

/** Epoch ms of an epoch number in seconds or milliseconds, told apart by magnitude. */
export function epochMsFromDecimal(d: Decimal): number | undefined {
  // 0.digits × 10^exp < 10^11 (EPOCH_SECONDS_BELOW) exactly when exp <= 11.
  return floorScaled(d, d.exp <= 11 ? 3 : 0);
}
