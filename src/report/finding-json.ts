import { isLosslessNumber } from 'lossless-json';
import type { Finding, Reason, Verdict } from '../core/verdict.js';

/** A JSON value, as written by the json and ndjson reporters. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface FieldDiffJson {
  path: string;
  cache: JsonValue;
  source: JsonValue;
}

/** One finding in the report contract (ARCHITECTURE.md "Report contract"), in its key order. */
export interface FindingJson {
  key: string;
  family: string;
  verdict: Verdict;
  reason?: Reason;
  pttlMs?: JsonValue;
  cacheVersion?: JsonValue;
  sourceVersion?: JsonValue;
  staleAgeMs?: JsonValue;
  diff: FieldDiffJson[];
  detail?: string;
}

/**
 * Turns a payload value into something JSON.stringify writes faithfully. Payload values come from
 * codecs and drivers, so they can be bigint (pg int8), LosslessNumber (big JSON numbers), Date,
 * Buffer (msgpack bin), Map/Set, or non-finite numbers, none of which JSON.stringify renders
 * truthfully (it throws on bigint and writes NaN as null). Exact numbers become their decimal text,
 * since a double would lose digits. Returns undefined only for undefined, functions and symbols at
 * the top level, which callers omit.
 */
export function toJsonValue(value: unknown): JsonValue | undefined {
  return convert(value, new WeakSet());
}

function convert(value: unknown, seen: WeakSet<object>): JsonValue | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // NaN and ±Infinity would silently become null; keep them distinguishable from a real null.
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
  }
  if (value === null) return null;
  const obj = value as object;
  if (isLosslessNumber(obj)) return String(obj);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof Uint8Array) return Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64');
  if (seen.has(obj)) return '[Circular]';
  seen.add(obj);
  try {
    if (Array.isArray(obj) || obj instanceof Set) {
      return Array.from(obj as Iterable<unknown>, (item) => convert(item, seen) ?? null);
    }
    const out: { [key: string]: JsonValue } = {};
    const entries: Iterable<[unknown, unknown]> = obj instanceof Map ? obj.entries() : Object.entries(obj);
    for (const [k, v] of entries) {
      const converted = convert(v, seen);
      if (converted !== undefined) out[String(k)] = converted;
    }
    return out;
  } finally {
    // Only cycles are circular; the same object reached twice by different paths is written twice.
    seen.delete(obj);
  }
}

/**
 * The contract shape of one finding. Undefined fields are omitted; `reason` is never written for a
 * match; the classifier's internal `step` is not part of the contract. A diff value that is absent
 * on one side is written as null (SEMANTICS: a missing field equals null), so every diff entry
 * has both `cache` and `source`.
 */
export function findingToJson(finding: Finding): FindingJson {
  return {
    key: finding.key,
    family: finding.family,
    verdict: finding.verdict,
    ...(finding.verdict !== 'match' && finding.reason !== undefined ? { reason: finding.reason } : {}),
    ...optional('pttlMs', finding.pttlMs),
    ...optional('cacheVersion', finding.cacheVersion),
    ...optional('sourceVersion', finding.sourceVersion),
    ...optional('staleAgeMs', finding.staleAgeMs),
    diff: finding.diff.map((d) => ({
      path: d.path,
      cache: toJsonValue(d.cache) ?? null,
      source: toJsonValue(d.source) ?? null,
    })),
    ...(finding.detail !== undefined ? { detail: finding.detail } : {}),
  };
}

/** `{ [name]: value }` as JSON, or `{}` when the value is undefined (spread keeps key order). */
function optional<K extends string>(name: K, value: unknown): Partial<Record<K, JsonValue>> {
  const converted = toJsonValue(value);
  return converted === undefined ? {} : ({ [name]: converted } as Record<K, JsonValue>);
}
