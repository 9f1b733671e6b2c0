import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLLECTION_TYPES, type ChildQuery, type CodecName, type FamilyRule, type ManyRows, type NormalizerSpec, type PathNormalizer, type RedisValueType, type Tolerance } from '../core/rule.js';
import { parseDuration } from './duration.js';
import { compilePattern } from './key-pattern.js';
import { normalizerTexts, parseNormalizePath, parseNormalizer } from './normalizer-spec.js';
import { parseOrderBy, parseTolerance } from './order-by.js';
import type { RulesConfig, SourceKind, SourceSpec } from './types.js';

/** The rules data as the schema guarantees it (only used after validation found no problem). */
export interface RawSource {
  kind: SourceKind;
  url?: string;
  module?: string;
  timezone?: string;
}

export interface RawFamily {
  name: string;
  pattern: string;
  type?: RedisValueType;
  codec?: string;
  fieldCodecs?: Record<string, string>;
  source: string;
  query?: string;
  table?: string;
  key?: string | string[];
  fields?: string[];
  exclude?: string[];
  version?: string;
  updatedAt?: string;
  ttl: string;
  maxStaleness?: string;
  clockSkew?: string;
  normalize?: Record<string, string | string[]>;
  redact?: string[];
  negativeMarker?: string;
  minConsistency?: number;
  rows?: 'one' | 'many';
  orderBy?: string;
  limit?: number;
  member?: string;
  score?: string;
  ordered?: boolean;
  tolerance?: number | string | Record<string, number | string>;
  children?: Record<string, RawChild>;
}

export interface RawChild {
  query?: string;
  table?: string;
  key: string | string[];
  orderBy?: string;
  limit?: number;
  member?: string;
  ordered?: boolean;
  fields?: string[];
  exclude?: string[];
}

export interface RawRules {
  version: 1;
  sources: Record<string, RawSource>;
  families: RawFamily[];
}

/** Used when a family gives no clockSkew: enough for hosts kept in sync by NTP. */
export const DEFAULT_CLOCK_SKEW_MS = 1_000;

/**
 * Module paths are relative to the rules file, not to the working directory, so a rules file
 * and its loaders can move together and be run from anywhere.
 */
export function resolveModulePath(module: string, rulesFile: string): string {
  if (module.startsWith('file:')) return fileURLToPath(module);
  if (isAbsolute(module)) return module;
  return resolve(dirname(resolve(rulesFile)), module);
}

function duration(text: string): number {
  const ms = parseDuration(text);
  // Validation already rejected every duration this could fail on.
  if (ms === undefined) throw new Error(`invalid duration "${text}" after validation`);
  return ms;
}

function compileFamily(raw: RawFamily): FamilyRule {
  const pattern = compilePattern(raw.pattern);
  const ttlMs = duration(raw.ttl);
  const { normalize, normalizePaths } = compileNormalize(raw);
  const type = raw.type ?? 'string';
  const collection = COLLECTION_TYPES.includes(type);
  const many = raw.rows === 'many' ? compileMany(raw, type === 'list' || type === 'string') : undefined;
  const tolerance = raw.tolerance === undefined ? undefined : compileTolerance(raw.tolerance);
  return {
    name: raw.name,
    pattern,
    type,
    // The schema's enum is the list of codecs; this cast is the one place the two meet.
    codec: (raw.codec ?? (collection ? 'raw' : 'json')) as CodecName,
    ...(raw.fieldCodecs === undefined ? {} : { fieldCodecs: raw.fieldCodecs as Record<string, CodecName> }),
    source: raw.source,
    ...(raw.query === undefined ? {} : { query: raw.query }),
    ...(raw.table === undefined ? {} : { table: raw.table }),
    key: raw.key === undefined ? pattern.placeholders : typeof raw.key === 'string' ? [raw.key] : raw.key,
    ...(raw.fields === undefined ? {} : { fields: raw.fields }),
    ...(raw.exclude === undefined ? {} : { exclude: raw.exclude }),
    ...(raw.version === undefined ? {} : { version: raw.version }),
    ...(raw.updatedAt === undefined ? {} : { updatedAt: raw.updatedAt }),
    ttlMs,
    maxStalenessMs: raw.maxStaleness === undefined ? ttlMs : duration(raw.maxStaleness),
    clockSkewMs: raw.clockSkew === undefined ? DEFAULT_CLOCK_SKEW_MS : duration(raw.clockSkew),
    normalize,
    ...(normalizePaths === undefined ? {} : { normalizePaths }),
    redact: raw.redact ?? [],
    ...(raw.negativeMarker === undefined ? {} : { negativeMarker: raw.negativeMarker }),
    ...(raw.minConsistency === undefined ? {} : { minConsistency: raw.minConsistency }),
    ...(many === undefined ? {} : { many }),
    ...(raw.children === undefined ? {} : { children: Object.entries(raw.children).map(([name, child]) => compileChild(name, child)) }),
    ...(tolerance === undefined ? {} : { tolerance }),
  };
}

/** `ordered` defaults to true where order exists (a list, a cached array); sets and sorted sets have none. */
function compileMany(raw: Pick<RawFamily, 'orderBy' | 'limit' | 'member' | 'score' | 'ordered'>, orderable: boolean): ManyRows {
  return {
    ordered: orderable && raw.ordered !== false,
    ...(raw.orderBy === undefined ? {} : { orderBy: parseOrderBy(raw.orderBy) }),
    ...(raw.limit === undefined ? {} : { limit: raw.limit }),
    ...(raw.member === undefined ? {} : { member: raw.member }),
    ...(raw.score === undefined ? {} : { score: raw.score }),
  };
}

function compileChild(name: string, raw: RawChild): ChildQuery {
  return {
    name,
    ...compileMany(raw, true),
    key: typeof raw.key === 'string' ? [raw.key] : raw.key,
    ...(raw.query === undefined ? {} : { query: raw.query }),
    ...(raw.table === undefined ? {} : { table: raw.table }),
    ...(raw.fields === undefined ? {} : { fields: raw.fields }),
    ...(raw.exclude === undefined ? {} : { exclude: raw.exclude }),
  };
}

/** A scalar applies to every compared field (`*`); a map names the fields. */
function compileTolerance(raw: NonNullable<RawFamily['tolerance']>): Record<string, Tolerance> {
  const entries = typeof raw === 'object' ? Object.entries(raw) : [['*', raw] as const];
  const out: Record<string, Tolerance> = {};
  for (const [field, value] of entries) {
    const tolerance = parseTolerance(value);
    if (tolerance === undefined) throw new Error(`invalid tolerance "${String(value)}" after validation`);
    define(out, field, tolerance);
  }
  return out;
}

/**
 * `normalize:` keys that name a field go to `normalize`; paths (`meta.at`, `items[].at`) go to
 * `normalizePaths` under their top-level field, in rules-file order.
 */
function compileNormalize(raw: RawFamily): Pick<FamilyRule, 'normalize' | 'normalizePaths'> {
  const normalize: Record<string, NormalizerSpec[]> = {};
  const paths: Record<string, PathNormalizer[]> = {};
  for (const [key, value] of Object.entries(raw.normalize ?? {})) {
    const specs = normalizerTexts(value).map((text) => {
      const spec = parseNormalizer(text);
      if (spec === undefined) throw new Error(`invalid normalizer "${text}" after validation`);
      return spec;
    });
    const parsed = parseNormalizePath(key, raw.fields);
    if ('problem' in parsed) throw new Error(`invalid normalize path "${key}" after validation`);
    if (parsed.steps.length === 0) {
      define(normalize, key, specs);
    } else {
      const list = Object.hasOwn(paths, parsed.field) ? (paths[parsed.field] ?? []) : define(paths, parsed.field, []);
      list.push({ path: key, steps: parsed.steps, specs });
    }
  }
  return Object.keys(paths).length === 0 ? { normalize } : { normalize, normalizePaths: paths };
}

/** Defined, not assigned: a field named `__proto__` must become a key, not the prototype. */
function define<T>(record: Record<string, T>, key: string, value: T): T {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/** Turns validated rules data into the compiled config the audit runs on. */
export function compileRules(raw: RawRules, file: string): RulesConfig {
  const sources: Record<string, SourceSpec> = {};
  for (const [name, source] of Object.entries(raw.sources)) {
    sources[name] = {
      name,
      kind: source.kind,
      ...(source.url === undefined ? {} : { url: source.url }),
      ...(source.module === undefined ? {} : { module: resolveModulePath(source.module, file) }),
      ...(source.timezone === undefined ? {} : { timezone: source.timezone }),
    };
  }
  const families = raw.families.map((family) => {
    const timeZone = raw.sources[family.source]?.timezone;
    return timeZone === undefined ? compileFamily(family) : { ...compileFamily(family), timeZone };
  });
  return { file, sources, families };
}
