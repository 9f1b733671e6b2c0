import { displayValue } from '../display.js';
import type { Finding, Reason, Verdict } from '../verdict.js';

/** A JSON value, as the json and ndjson reporters write it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface FieldDiffJson {
  path: string;
  cache: JsonValue;
  source: JsonValue;
  /** A collection's change in words (`+42, -17`), when the entry is one (verdict.ts FieldDiff). */
  change?: string;
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
  /** Differences found but not listed in `diff` (a finding keeps a bounded diff). */
  diffOmitted?: number;
  detail?: string;
  population?: 'recent';
}

/**
 * One finding as the reader hands it on (read.ts), after checking it: the numbers it uses are
 * numbers; versions and diff values stay as the report wrote them.
 */
export interface ReportFinding extends Omit<FindingJson, 'pttlMs' | 'cacheVersion' | 'sourceVersion' | 'staleAgeMs' | 'diff'> {
  pttlMs?: number;
  cacheVersion?: unknown;
  sourceVersion?: unknown;
  staleAgeMs?: number;
  diff: { path: string; cache: unknown; source: unknown; change?: string }[];
}

/** A value as JSON (core's displayValue); undefined stays undefined so callers can omit it. */
export function toJsonValue(value: unknown): JsonValue | undefined {
  return value === undefined ? undefined : (displayValue(value) as JsonValue);
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
      ...(d.change === undefined ? {} : { change: d.change }),
    })),
    ...(finding.diffOmitted !== undefined && finding.diffOmitted > 0 ? { diffOmitted: finding.diffOmitted } : {}),
    ...(finding.detail !== undefined ? { detail: finding.detail } : {}),
    ...(finding.population !== undefined ? { population: finding.population } : {}),
  };
}

/** `{ [name]: value }` as JSON, or `{}` when the value is undefined (spread keeps key order). */
function optional<K extends string>(name: K, value: unknown): Partial<Record<K, JsonValue>> {
  const converted = toJsonValue(value);
  return converted === undefined ? {} : ({ [name]: converted } as Record<K, JsonValue>);
}
