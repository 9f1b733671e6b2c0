/**
 * Equality and ordering that know what database drivers do to values, so that a type mapping
 * never shows up as a false `divergent` (ARCHITECTURE.md, "Normalization"): pg returns bigint and
 * numeric as strings, mysql2 returns DECIMAL as a string and TINYINT(1) as 0/1, both return
 * timestamps as Dates, and Redis hash fields are always strings.
 */
import { Buffer } from 'node:buffer';
import { isLosslessNumber } from 'lossless-json';
import { compareDecimals, decimalToNumber, decimalsEqual, isNumberLike, toDecimal } from './decimal.js';
import { parseJsonText } from './json-text.js';
import { parseTimestamp } from './timestamp.js';

/**
 * Strings are compared exactly against strings (no trimming, no case folding: those are
 * normalizers a user opts into). Every other mix of types is matched the way drivers force.
 * The common cases (same strings, same numbers) return on the first line.
 */
export function valuesEqual(cache: unknown, source: unknown): boolean {
  if (cache === source) return true;
  if (cache === null || cache === undefined || source === null || source === undefined) {
    // A missing field (undefined) equals null.
    return (cache === null || cache === undefined) && (source === null || source === undefined);
  }
  const tc = typeof cache;
  const ts = typeof source;
  if (tc === 'string' && ts === 'string') return false;
  if (tc === 'number' && ts === 'number') return Number.isNaN(cache) && Number.isNaN(source);
  return mixedEqual(cache, source);
}

function mixedEqual(a: unknown, b: unknown): boolean {
  // Booleans first: '1' is both a number and a boolean spelling, and true must equal it.
  if (typeof a === 'boolean') return booleanEquals(a, b);
  if (typeof b === 'boolean') return booleanEquals(b, a);
  if (a instanceof Date) return dateEquals(a, b);
  if (b instanceof Date) return dateEquals(b, a);
  if (a instanceof Uint8Array) return bytesEqual(a, b);
  if (b instanceof Uint8Array) return bytesEqual(b, a);
  if (isNumberLike(a) || isNumberLike(b)) {
    // Fast path for the usual hash field or pg int8: '42' against 42.
    if (typeof a === 'number' && typeof b === 'string' && String(a) === b) return true;
    if (typeof b === 'number' && typeof a === 'string' && String(b) === a) return true;
    const da = toDecimal(a);
    const db = toDecimal(b);
    return da !== undefined && db !== undefined && decimalsEqual(da, db);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // A hash field (or text column) holding the JSON of a structured value on the other side.
    if (typeof a === 'string' && typeof b === 'object' && b !== null) return jsonTextEquals(a, b);
    if (typeof b === 'string' && typeof a === 'object' && a !== null) return jsonTextEquals(b, a);
    return false;
  }
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) return arraysEqual(a as readonly unknown[], b as readonly unknown[]);
  return objectsEqual(a as Readonly<Record<string, unknown>>, b as Readonly<Record<string, unknown>>);
}

function booleanEquals(bool: boolean, other: unknown): boolean {
  switch (typeof other) {
    case 'number':
    case 'bigint':
      return bool ? other == 1 : other == 0;
    case 'string': {
      const word = other.toLowerCase();
      return bool ? word === 'true' || word === 't' || word === '1' : word === 'false' || word === 'f' || word === '0';
    }
    case 'object':
      if (isLosslessNumber(other)) return booleanEquals(bool, other.value);
      // mysql2 returns BIT(1) as a one-byte Buffer.
      if (other instanceof Uint8Array) return other.length === 1 && other[0] === (bool ? 1 : 0);
      return false;
    default:
      return false;
  }
}

/** A Date equals an ISO/SQL string for the same instant (zone-less = UTC) or its epoch ms. */
function dateEquals(date: Date, other: unknown): boolean {
  const t = date.getTime();
  if (Number.isNaN(t)) return other instanceof Date && Number.isNaN(other.getTime());
  const o = epochMsOf(other);
  return o !== undefined && o === t;
}

/** Epoch ms of a Date, timestamp string, or epoch-ms number (no seconds guessing here). */
function epochMsOf(value: unknown): number | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'string') {
    const t = parseTimestamp(value);
    if (t !== undefined) return t;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const d = typeof value === 'string' || isNumberLike(value) ? toDecimal(value) : undefined;
  if (d === undefined) return undefined;
  const n = decimalToNumber(d);
  return Number.isFinite(n) ? n : undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** pg bytea arrives as a Buffer; the cache usually holds its text. */
function bytesEqual(bytes: Uint8Array, other: unknown): boolean {
  if (other instanceof Uint8Array) return asBuffer(bytes).equals(other);
  return valuesEqual(asBuffer(bytes).toString('utf8'), other);
}

function jsonTextEquals(text: string, value: object): boolean {
  const first = text.trimStart().charCodeAt(0);
  if (first !== 123 /* { */ && first !== 91 /* [ */) return false;
  const parsed = parseJsonText(text);
  return parsed.ok && typeof parsed.value === 'object' && valuesEqual(parsed.value, value);
}

function arraysEqual(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
  return true;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Key order never matters; a key missing on one side equals a null on the other. */
function objectsEqual(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  for (const k in a) {
    if (!hasOwn.call(a, k)) continue;
    if (!valuesEqual(a[k], hasOwn.call(b, k) ? b[k] : undefined)) return false;
  }
  for (const k in b) {
    if (!hasOwn.call(b, k) || hasOwn.call(a, k)) continue;
    const v = b[k];
    if (v !== null && v !== undefined) return false;
  }
  return true;
}

/**
 * Orders a cache version against a source version: -1 when the cache is older, 1 when it is
 * ahead. Numbers (JS numbers, bigint, LosslessNumber, numeric strings: `'12'` equals `12`) are
 * ordered exactly as decimals, never through a float; Dates and timestamp strings by epoch ms;
 * other strings by code units. undefined when either side is missing or they cannot be ordered.
 */
export function compareVersions(cache: unknown, source: unknown): -1 | 0 | 1 | undefined {
  if (cache === null || cache === undefined || source === null || source === undefined) return undefined;
  const c = cache instanceof Uint8Array ? asBuffer(cache).toString('utf8') : cache;
  const s = source instanceof Uint8Array ? asBuffer(source).toString('utf8') : source;
  if (c instanceof Date || s instanceof Date) return order(epochMsOf(c), epochMsOf(s));
  const dc = typeof c === 'string' || isNumberLike(c) ? toDecimal(c) : undefined;
  const ds = typeof s === 'string' || isNumberLike(s) ? toDecimal(s) : undefined;
  if (dc !== undefined && ds !== undefined) return compareDecimals(dc, ds);
  if (typeof c !== 'string' || typeof s !== 'string') return undefined;
  const tc = parseTimestamp(c);
  const tsource = parseTimestamp(s);
  if (tc !== undefined && tsource !== undefined) return order(tc, tsource);
  return c < s ? -1 : c > s ? 1 : 0;
}

function order(a: number | undefined, b: number | undefined): -1 | 0 | 1 | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

// displayValue lives in display.ts; re-exported here for the callers that compare and show.
export { displayValue } from './display.js';
