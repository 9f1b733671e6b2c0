/**
 * How the PostgreSQL loader reads values: per-pool type parsers and the parsing of arrays of types
 * node-postgres does not know. Kept apart from loader.ts, which is about statements and sessions.
 */
import { Buffer } from 'node:buffer';
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import type { ColumnType, ColumnTypes } from '../../core/column-type.js';
import { exactNumber } from '../../core/decimal.js';
import { preciseDateOf } from '../../core/instant.js';
import { parseSourceJson } from '../../core/json-text.js';

// Type OIDs (pg_type.oid) whose default parsing we change.
const DATE_OID = 1082;
const DATE_ARRAY_OID = 1182;
const TIMESTAMP_OID = 1114;
const TIMESTAMP_ARRAY_OID = 1115;
const TIMESTAMPTZ_OID = 1184;
const TIMESTAMPTZ_ARRAY_OID = 1185;
const TEXT_ARRAY_OID = 1009;
const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const NUMERIC_OID = 1700;
const NUMERIC_ARRAY_OID = 1231;
const JSON_OID = 114;
const JSON_ARRAY_OID = 199;
const JSONB_OID = 3802;
const JSONB_ARRAY_OID = 3807;

/**
 * Per-pool type parsers (never the process-wide `pg.types`, which other code may share):
 * - `timestamp` and `timestamptz` become PreciseDates keeping their microseconds (a Date alone
 *   would drop them, and a cache written by Python or Go keeps them). `timestamp without time
 *   zone` is wall-clock time in the source's `timezone` (UTC by default), never the host's zone.
 * - `date` stays the `YYYY-MM-DD` text (pg's default is local midnight, host-dependent again).
 * - int8 and numeric keep their exact text, as LosslessNumbers so they compare as numbers
 *   (a hash field '10.5' equals numeric '10.50').
 * - json/jsonb are parsed as the cache side is, keeping numbers past 2^53 exact.
 * - everything else keeps pg's defaults: bool as boolean, float as number. Types pg does not know
 *   (arrays of enums or domains) arrive as text and are parsed after the batch by their resolved
 *   column type (parseUnknownArrays).
 */
export function pgTypeParsers(zone: string | undefined, base: CustomTypesConfig = pg.types): CustomTypesConfig {
  // pg-types' TypeId enum lists scalar types only; any OID is accepted at run time.
  const baseParser = base.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;
  const parseTextArray = baseParser(TEXT_ARRAY_OID, 'text') as (text: string) => (string | null)[] | null;
  const parseTimestamptz = baseParser(TIMESTAMPTZ_OID, 'text') as (text: string) => unknown;
  // infinity and BC dates are outside what the instant parser reads: pg's own parser keeps them
  // (a zone-less one as UTC).
  const parseTimestamp = (text: string) => preciseDateOf(text, zone ?? 'UTC') ?? parseTimestamptz(asUtc(text));
  const parsers = new Map<number, (text: string) => unknown>([
    [TIMESTAMP_OID, parseTimestamp],
    [TIMESTAMPTZ_OID, (text: string) => preciseDateOf(text) ?? parseTimestamptz(text)],
    [INT8_OID, exactNumber],
    [NUMERIC_OID, exactNumber],
    [JSON_OID, parseSourceJson],
    [JSONB_OID, parseSourceJson],
    [DATE_OID, (text: string) => text],
  ]);
  const arrays = new Map<number, number>([
    [TIMESTAMP_ARRAY_OID, TIMESTAMP_OID],
    [TIMESTAMPTZ_ARRAY_OID, TIMESTAMPTZ_OID],
    [DATE_ARRAY_OID, DATE_OID],
    [INT8_ARRAY_OID, INT8_OID],
    [NUMERIC_ARRAY_OID, NUMERIC_OID],
    [JSON_ARRAY_OID, JSON_OID],
    [JSONB_ARRAY_OID, JSONB_OID],
  ]);
  const getTypeParser = (oid: number, format?: 'text' | 'binary'): unknown => {
    if (format === undefined || format === 'text') {
      const scalar = parsers.get(oid);
      if (scalar !== undefined) return scalar;
      const element = parsers.get(arrays.get(oid) ?? -1);
      if (element !== undefined) return (text: string) => mapArray(parseTextArray(text), element);
    }
    return baseParser(oid, format);
  };
  return { getTypeParser: getTypeParser as CustomTypesConfig['getTypeParser'] };
}

type NestedText = string | null | NestedText[];

/** Maps the elements of a (possibly multi-dimensional) parsed array literal. */
function mapArray(items: NestedText[] | null, parse: (text: string) => unknown): unknown {
  if (items === null) return null;
  return items.map((item) => (item === null ? null : Array.isArray(item) ? mapArray(item, parse) : parse(item)));
}

/** How an array element's text is read, by the element's resolved type. */
function elementParser(type: ColumnType | undefined, zone: string | undefined): (text: string) => unknown {
  switch (type?.kind) {
    case 'integer':
    case 'decimal':
      return exactNumber;
    case 'float4':
    case 'float8':
      return Number;
    case 'boolean':
      return (text) => text === 't' || text === 'true';
    case 'timestamp':
      return (text) => preciseDateOf(text, zone ?? 'UTC') ?? text;
    case 'timestamptz':
      return (text) => preciseDateOf(text) ?? text;
    case 'json':
      return parseSourceJson;
    case 'bytes':
      return (text) => (text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : text);
    default:
      return (text) => text;
  }
}

/**
 * Arrays of types node-postgres has no parser for (enums, domains, extension types) arrive as the
 * array literal's text, `{viewer,editor}`: parse them by their resolved element type, in place.
 */
export function parseUnknownArrays(rows: Record<string, unknown>[], columns: ColumnTypes, zone: string | undefined): void {
  const getTypeParser = pg.types.getTypeParser as (oid: number, format: 'text') => unknown;
  const parseTextArray = getTypeParser(TEXT_ARRAY_OID, 'text') as (text: string) => NestedText[] | null;
  for (const [name, type] of Object.entries(columns)) {
    if (type.kind !== 'array') continue;
    const parseElement = elementParser(type.element, zone);
    for (const row of rows) {
      const value = row[name];
      if (typeof value === 'string') row[name] = mapArray(parseTextArray(value), parseElement);
    }
  }
}

/** `2024-05-01 10:00:00.123` → `2024-05-01 10:00:00.123+00` (before a trailing ` BC`). */
function asUtc(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  return text.endsWith(' BC') ? `${text.slice(0, -3)}+00 BC` : `${text}+00`;
}
