/** Rules, reads and column types shared by the collection tests. */
import { LosslessNumber } from 'lossless-json';
import { classifyObservation } from '../../../src/core/classify.js';
import type { ColumnType, ColumnTypes } from '../../../src/core/column-type.js';
import type { CacheRead, Observation, SourceRead } from '../../../src/core/observation.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import type { Judgement } from '../../../src/core/verdict.js';

export const NOW = Date.parse('2026-01-01T12:00:00.000Z');
export const S = 1000;

export const INT: ColumnType = { kind: 'integer', name: 'int8' };
export const DEC: ColumnType = { kind: 'decimal', name: 'numeric' };
export const F8: ColumnType = { kind: 'float8', name: 'float8' };
export const TSTZ: ColumnType = { kind: 'timestamptz', name: 'timestamptz' };
export const TS: ColumnType = { kind: 'timestamp', name: 'timestamp' };
export const TEXT: ColumnType = { kind: 'text', name: 'text' };

export function rule(overrides: Partial<FamilyRule> = {}): FamilyRule {
  return {
    name: 'recent-orders',
    pattern: { source: 'user:{id}:orders', glob: 'user:*:orders', placeholders: ['id'], match: () => undefined, render: (id) => `user:${id}:orders` },
    type: 'list',
    codec: 'raw',
    source: 'main',
    key: ['user_id'],
    ttlMs: 300 * S,
    maxStalenessMs: 300 * S,
    clockSkewMs: 1 * S,
    normalize: {},
    redact: [],
    many: { ordered: true, member: 'id' },
    ...overrides,
  };
}

/** A LIST or SET read: each element as its writer put it. */
export function elements(type: 'list' | 'set', items: readonly string[], pttlMs = 100 * S): CacheRead {
  return { kind: 'present', redisType: type, value: items.map((item) => Buffer.from(item)), pttlMs };
}

/** A ZSET read: members with scores as Redis spells them. */
export function scored(items: readonly [string, string][], pttlMs = 100 * S): CacheRead {
  return { kind: 'present', redisType: 'zset', value: items.map(([member, score]) => ({ member: Buffer.from(member), score })), pttlMs };
}

/** A string value (a cached JSON array or document). */
export function text(value: string, pttlMs = 100 * S): CacheRead {
  return { kind: 'present', redisType: 'string', value: Buffer.from(value), pttlMs };
}

/** The source side of a `rows: many` key, as the loaders hand it over. */
export function members(rows: readonly Record<string, unknown>[], columns: ColumnTypes): SourceRead {
  return { kind: 'row', row: { members: rows }, columns: { members: { kind: 'rows', name: 'rows', columns } } };
}

export function judge(r: FamilyRule, cache: CacheRead, source: SourceRead, trace?: string[]): Judgement {
  const obs: Observation = { key: 'k', cache, source, nowMs: NOW };
  return classifyObservation(r, obs, trace);
}

/** pg int8 as the loaders hand it over: an exact number. */
export const int8 = (text: string): LosslessNumber => new LosslessNumber(text);
