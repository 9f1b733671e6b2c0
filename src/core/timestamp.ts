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
 * seconds (`+00:53:28`, historic local mean time), so that is accepted too.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?: ?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?))?$/;

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

export function parseTimestampParts(text: string): TimestampParts | undefined {
  // Cheap reject before the regex: every accepted form starts with 4 digits and a dash.
  if (text.length < 10 || text.charCodeAt(4) !== 45) return undefined;
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  const fraction = m[7] ?? '';
  const ms = fraction === '' ? 0 : Number(`${fraction}00`.slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined; // 2024-02-30 is not a day
  let wallMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; shift back for the rare genuine year 0042.
  if (year < 100) wallMs = new Date(wallMs).setUTCFullYear(year);
  let offsetMs: number | undefined;
  if (m[8] !== undefined) offsetMs = 0;
  else if (m[9] !== undefined) {
    const size = ((Number(m[10]) * 60 + Number(m[11] ?? 0)) * 60 + Number(m[12] ?? 0)) * 1000;
    offsetMs = m[9] === '-' ? -size : size;
  }
  const digits = Math.min(9, fraction.length);
  const nanos = digits > 3 ? Number(fraction.slice(3, 9).padEnd(6, '0')) : 0;
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
