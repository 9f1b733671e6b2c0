/**
 * Equality of a cached value and a source value by the source column's type (core/column-type.ts),
 * whatever form the cache holds it in: the forms other languages' services write (Python
 * `isoformat()`, Go RFC 3339, Java epoch milliseconds, PHP `Y-m-d H:i:s`, 17-digit doubles, JSON
 * numbers past 2^53, base64 bytes). Each kind accepts the cache forms listed in the README's
 * "Comparison by column type" table, and nothing looser: a false match is as bad as a false alarm.
 */
import { Buffer } from 'node:buffer';
import { isLosslessNumber } from 'lossless-json';
import type { ColumnType } from './column-type.js';
import { valuesEqual } from './compare.js';
import { decimalsEqual, toDecimal } from './decimal.js';
import { instantOf, instantsEqual } from './instant.js';
import { parseJsonText } from './json-text.js';
import { parseTimestampParts } from './timestamp.js';

/**
 * True when `cache` equals `source`, a value of a column of type `type`. Without a type (a module
 * loader that declares none, a field the source does not return) the generic, driver-aware
 * valuesEqual decides. `zone`: the source's time zone, for zone-less timestamp texts.
 */
export function equalByType(type: ColumnType | undefined, cache: unknown, source: unknown, zone?: string): boolean {
  if (cache === source) return true;
  if (isNullish(cache) || isNullish(source)) return isNullish(cache) && isNullish(source);
  if (type === undefined) return valuesEqual(cache, source);
  switch (type.kind) {
    case 'integer':
    case 'decimal':
      return decimalEqual(cache, source);
    case 'float8':
      return doublesEqual(toDouble(cache), toDouble(source));
    case 'float4':
      return doublesEqual(toSingle(cache), toSingle(source));
    case 'boolean':
      return booleanOf(source) !== undefined && booleanOf(cache) === booleanOf(source);
    case 'bool-int':
      return boolIntEqual(cache, source);
    case 'date':
      return dayOf(source) !== undefined && dayOf(cache) === dayOf(source);
    case 'timestamp':
    case 'timestamptz': {
      const s = instantOf(source, zone);
      const c = instantOf(cache, zone);
      return s !== undefined && c !== undefined ? instantsEqual(c, s) : valuesEqual(cache, source);
    }
    case 'json':
      return jsonEqual(cache, source);
    case 'bytes':
      return bytesEqual(cache, source);
    case 'array':
      return arrayEqual(type.element, cache, source, zone);
    case 'text':
    case 'other':
      return isUuidColumn(type) && typeof cache === 'string' && typeof source === 'string' ? uuidsEqual(cache, source) : valuesEqual(cache, source);
    case 'rows':
      return rowsEqual(type, cache, source, zone);
  }
}

function isNullish(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function decimalEqual(cache: unknown, source: unknown): boolean {
  const s = toDecimal(source);
  const c = typeof cache === 'string' || typeof cache === 'number' || typeof cache === 'bigint' || isLosslessNumber(cache) ? toDecimal(cache) : undefined;
  return s !== undefined && c !== undefined ? decimalsEqual(c, s) : valuesEqual(cache, source);
}

const SPECIAL_DOUBLES: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, inf: Infinity, '-inf': -Infinity, nan: NaN };

/** The IEEE double a number, a LosslessNumber (a 17-digit form) or a numeric text stands for. */
function toDouble(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (isLosslessNumber(value)) return Number(value.value);
  if (typeof value !== 'string') return undefined;
  if (Object.hasOwn(SPECIAL_DOUBLES, value)) return SPECIAL_DOUBLES[value];
  return toDecimal(value) === undefined ? undefined : Number(value);
}

function toSingle(value: unknown): number | undefined {
  const d = toDouble(value);
  return d === undefined ? undefined : Math.fround(d);
}

function doublesEqual(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

const TRUE_WORDS = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no', 'n', 'off']);

/** A boolean from the forms writers use: true/false, 1/0, "true"/"True"/"t"/"1"/"yes"/"on". */
function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value == 1 ? true : value == 0 ? false : undefined;
  if (isLosslessNumber(value)) return booleanOf(value.value);
  if (typeof value === 'string') {
    const word = value.toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  }
  // mysql2 returns BIT(1) as a one-byte Buffer.
  if (value instanceof Uint8Array && value.length === 1) return value[0] === 1 ? true : value[0] === 0 ? false : undefined;
  return undefined;
}

/**
 * MySQL's BOOLEAN is TINYINT(1), which stores any -128..127. A cached boolean (or boolean word)
 * equals only a stored 0 or 1; a cached number equals the stored number exactly.
 */
function boolIntEqual(cache: unknown, source: unknown): boolean {
  const stored = typeof source === 'boolean' ? undefined : toDecimal(source);
  if (typeof source !== 'boolean' && stored === undefined) return valuesEqual(cache, source);
  // The stored value as a boolean, when it is 0 or 1.
  const bit = typeof source === 'boolean' ? source : stored?.digits === '' ? false : stored?.digits === '1' && stored.exp === 1 && !stored.neg ? true : undefined;
  const wordy = typeof cache === 'boolean' || (typeof cache === 'string' && toDecimal(cache) === undefined);
  if (wordy) return bit !== undefined && booleanOf(cache) === bit;
  return decimalEqual(cache, typeof source === 'boolean' ? (source ? 1 : 0) : source);
}

const DAY = /^(\d{4,})-(\d{2})-(\d{2})$/;

/**
 * The calendar day a value stands for: `YYYY-MM-DD`, or a timestamp at midnight of that day (an
 * ISO text at 00:00 in whatever offset it names, what JSON.stringify of a driver Date, Go and Java
 * print; a Date or an epoch number at midnight UTC). A timestamp at any other time is no day.
 */
export function dayOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    if (DAY.test(text)) return parseTimestampParts(text) === undefined ? undefined : text;
    const parts = parseTimestampParts(text);
    if (parts === undefined || parts.nanos !== 0 || parts.wallMs % 86_400_000 !== 0) return undefined;
    return new Date(parts.wallMs).toISOString().slice(0, 10);
  }
  const instant = instantOf(value);
  if (instant === undefined || instant.nanos !== 0 || instant.ms % 86_400_000 !== 0) return undefined;
  return new Date(instant.ms).toISOString().slice(0, 10);
}

/** JSON columns: structurally (numbers exactly); a cached text holding JSON is parsed first. */
function jsonEqual(cache: unknown, source: unknown): boolean {
  if (valuesEqual(cache, source)) return true;
  if (typeof cache !== 'string') return false;
  const parsed = parseJsonText(cache);
  return parsed.ok && valuesEqual(parsed.value, source);
}

/** Binary columns against bytes, their UTF-8 text, pg's `\x` hex form, or base64 (Go and Jackson write byte arrays so). */
function bytesEqual(cache: unknown, source: unknown): boolean {
  const s = source instanceof Uint8Array ? Buffer.from(source.buffer, source.byteOffset, source.byteLength) : undefined;
  if (s === undefined) return valuesEqual(cache, source);
  if (cache instanceof Uint8Array) return s.equals(cache);
  if (typeof cache !== 'string') return false;
  if (s.toString('utf8') === cache) return true;
  if (/^\\x(?:[0-9a-fA-F]{2})*$/.test(cache)) return s.equals(Buffer.from(cache.slice(2), 'hex'));
  // Only canonical base64 counts, so arbitrary text never decodes into a match by accident.
  if (cache.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(cache)) return s.toString('base64') === cache;
  return false;
}

function arrayEqual(element: ColumnType | undefined, cache: unknown, source: unknown, zone: string | undefined): boolean {
  if (!Array.isArray(source)) return valuesEqual(cache, source);
  let items = cache;
  if (typeof cache === 'string') {
    const parsed = parseJsonText(cache);
    if (!parsed.ok) return false;
    items = parsed.value;
  }
  if (!Array.isArray(items) || items.length !== source.length) return false;
  for (let i = 0; i < source.length; i++) {
    if (!equalByType(element, items[i], source[i], zone)) return false;
  }
  return true;
}

/**
 * Nested rows equal a cached array element by element, each field by its own column's type. The
 * collection rules (identity by member, ties, limit, child fields) are applied by
 * collection-diff.ts, which knows the rule; this is the structural fallback for a `rows` column
 * met elsewhere (a field of a family that declares no such child).
 */
function rowsEqual(type: ColumnType, cache: unknown, source: unknown, zone: string | undefined): boolean {
  if (!Array.isArray(cache) || !Array.isArray(source) || cache.length !== source.length) return false;
  const columns = type.columns ?? {};
  return source.every((row, i) => {
    const element: unknown = cache[i];
    if (typeof row !== 'object' || row === null || typeof element !== 'object' || element === null) return valuesEqual(element, row);
    const r = row as Readonly<Record<string, unknown>>;
    const e = element as Readonly<Record<string, unknown>>;
    const names = new Set([...Object.keys(r), ...Object.keys(e)]);
    for (const name of names) {
      if (!equalByType(Object.hasOwn(columns, name) ? columns[name] : undefined, e[name], r[name], zone)) return false;
    }
    return true;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A PostgreSQL `uuid` column (a module may declare `{ kind: 'text', name: 'uuid' }`). */
export function isUuidColumn(type: ColumnType | undefined): boolean {
  return type !== undefined && type.name.toLowerCase() === 'uuid';
}

/**
 * A uuid's hex digits have no case (RFC 9562: input is case-insensitive): a Java service's
 * `6F1C…` is PostgreSQL's `6f1c…`. Anything but the 8-4-4-4-12 form compares exactly.
 */
function uuidsEqual(cache: string, source: string): boolean {
  return cache === source || (UUID.test(cache) && UUID.test(source) && cache.toLowerCase() === source.toLowerCase());
}
