import { describe, expect, it } from 'vitest';
import { classifyObservation } from '../../../src/core/classify.js';
import { OTHER_COLUMN } from '../../../src/core/column-type.js';
import type { CacheRead } from '../../../src/core/observation.js';
import {
  alignedNowMs,
  idsNeedingRows,
  isNegativeMarker,
  needsSourceRow,
  observationsOf,
  replicaLagAllowanceMs,
  sourceReadOf,
  type SourceAnswer,
  type SourceOutcome,
} from '../../../src/core/observe.js';
import type { FamilyRule } from '../../../src/core/rule.js';

const S = 1000;
const NOW = Date.parse('2026-01-01T12:00:00.000Z');

function rule(overrides: Partial<FamilyRule> = {}): FamilyRule {
  return {
    name: 'item',
    pattern: { source: 'item:{id}', glob: 'item:*', placeholders: ['id'], match: () => undefined, render: (id) => `item:${id}` },
    type: 'string',
    codec: 'json',
    source: 'main',
    key: ['id'],
    fields: ['name'],
    updatedAt: 'updated_at',
    ttlMs: 120 * S,
    maxStalenessMs: 122 * S,
    clockSkewMs: 100,
    normalize: {},
    redact: [],
    ...overrides,
  };
}

const present = (payload: unknown, pttlMs: number): CacheRead => ({ kind: 'present', redisType: 'string', value: Buffer.from(JSON.stringify(payload)), pttlMs });
const answer = (rows: Record<string, Record<string, unknown>>, extra: Partial<SourceAnswer> = {}): SourceAnswer => ({ rows: new Map(Object.entries(rows)), nowMs: NOW, ...extra });
const keys = (...ids: string[]) => ids.map((id) => ({ key: `item:${id}`, id }));

describe('which keys need their row', () => {
  it('only a value present with the rule type is compared, so only its row is loaded', () => {
    const reads: CacheRead[] = [
      present({ name: 'a' }, 5 * S),
      { kind: 'gone' },
      { kind: 'present', redisType: 'hash', value: {}, pttlMs: 5 },
      { kind: 'too-large', redisType: 'string', size: 9, unit: 'bytes' },
      { kind: 'error', message: 'WRONGTYPE' },
    ];
    expect(reads.map((r) => needsSourceRow(rule(), r))).toEqual([true, false, false, false, false]);
    expect(idsNeedingRows(rule(), keys('1', '2', '3', '4', '5'), reads)).toEqual(['1']);
  });
});

describe('clock alignment and replica lag', () => {
  it("the database's clock is taken back to the moment Redis answered", () => {
    expect(alignedNowMs(NOW, NOW - 30, NOW - 80)).toBe(NOW - 50);
  });
  it('the lags of a Redis replica and a source replica add up; primaries count as none', () => {
    expect(replicaLagAllowanceMs(1000, 250)).toBe(1250);
    expect(replicaLagAllowanceMs(undefined, 250)).toBe(250);
    expect(replicaLagAllowanceMs(undefined, undefined)).toBe(0);
  });
});

describe('a duplicate id is the core decision error/source-error', () => {
  it('the loader reports duplicate ids; the id reads as a source error naming the key column', () => {
    const read = sourceReadOf(answer({ '7': { id: 7, name: 'x' } }, { duplicateIds: ['7'] }), rule(), '7');
    expect(read).toMatchObject({ kind: 'error', timeout: false, message: expect.stringMatching(/more than one row for this id: the key column id does not identify one row/) as string });
  });
  it('a composite key names every column', () => {
    const read = sourceReadOf(answer({}, { duplicateIds: ['["a","1"]'] }), rule({ key: ['tenant', 'id'] }), '["a","1"]');
    expect(read).toMatchObject({ kind: 'error', message: expect.stringContaining('the key columns tenant, id') as string });
  });
  it('a key whose id had several rows is judged error/source-error at step 2', () => {
    const source: SourceOutcome = { kind: 'answered', answer: answer({ '7': { id: 7, name: 'x' } }, { duplicateIds: ['7'] }), loadStartedAtMs: NOW };
    const [obs] = observationsOf(rule(), { keys: keys('7'), reads: [present({ name: 'x' }, 60 * S)], cacheReadAtMs: NOW, source, replicaLagMs: 0 });
    expect(classifyObservation(rule(), obs!)).toMatchObject({ verdict: 'error', reason: 'source-error', step: 2 });
  });
  it('an id the query failed on alone is a source error; others read as their row or absent', () => {
    const a = answer({ '1': { id: 1, name: 'a' } }, { failedIds: new Map([['2', 'division by zero']]), columns: { name: OTHER_COLUMN } });
    expect(sourceReadOf(a, rule(), '2')).toEqual({ kind: 'error', message: 'division by zero', timeout: false });
    expect(sourceReadOf(a, rule(), '1')).toEqual({ kind: 'row', row: { id: 1, name: 'a' }, columns: a.columns });
    expect(sourceReadOf(a, rule(), '3')).toEqual({ kind: 'absent' });
  });
});

describe('observationsOf', () => {
  const stale = present({ name: 'old' }, 100 * S);

  it('aligns the database clock and carries the replica lag, only when there is one', () => {
    const source: SourceOutcome = { kind: 'answered', answer: answer({ '1': { id: 1, name: 'a' } }), loadStartedAtMs: NOW - 20 };
    const [lagged] = observationsOf(rule(), { keys: keys('1'), reads: [stale], cacheReadAtMs: NOW - 50, source, replicaLagMs: 1500 });
    expect(lagged).toMatchObject({ key: 'item:1', nowMs: NOW - 30, replicaLagMs: 1500, source: { kind: 'row' } });
    const [primary] = observationsOf(rule(), { keys: keys('1'), reads: [stale], cacheReadAtMs: NOW - 50, source, replicaLagMs: 0 });
    expect(primary).not.toHaveProperty('replicaLagMs');
  });

  it('a key that does not need its row is observed without it, even when one was loaded (explain loads it to show it)', () => {
    const source: SourceOutcome = { kind: 'failed', message: 'boom', timeout: false };
    const reads: CacheRead[] = [{ kind: 'error', message: 'READONLY' }, { kind: 'gone' }, stale];
    const observations = observationsOf(rule(), { keys: keys('1', '2', '3'), reads, cacheReadAtMs: NOW, source, replicaLagMs: 0 });
    expect(observations.map((o) => o.source.kind)).toEqual(['absent', 'absent', 'error']);
    expect(observations.map((o) => classifyObservation(rule(), o).reason)).toEqual(['cache-error', 'vanished', 'source-error']);
  });

  it('without a source answer the clock is the host one at the cache read, and a missing read is a vanished key', () => {
    const [obs] = observationsOf(rule(), { keys: keys('1'), reads: [], cacheReadAtMs: NOW, source: { kind: 'not-asked' }, replicaLagMs: 0 });
    expect(obs).toEqual({ key: 'item:1', cache: { kind: 'gone' }, source: { kind: 'absent' }, nowMs: NOW });
  });

  it('replica lag widens the skew: an entry written 700 ms after the change is stale-repopulated on primaries, ttl-bounded through a lagging replica', () => {
    // Written at W (expires W + ttl); the row changed at W - 700 ms. The estimated write time does not move with the clock.
    const writtenAt = NOW - 20 * S;
    const read = present({ name: 'old' }, writtenAt + 120 * S - NOW);
    const source: SourceOutcome = { kind: 'answered', answer: answer({ '1': { id: 1, name: 'new', updated_at: new Date(writtenAt - 700) } }), loadStartedAtMs: NOW };
    const judge = (replicaLagMs: number) => {
      const [obs] = observationsOf(rule(), { keys: keys('1'), reads: [read], cacheReadAtMs: NOW, source, replicaLagMs });
      return classifyObservation(rule(), obs!);
    };
    expect(judge(0)).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7 });
    expect(judge(1000)).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7 });
  });

  it('the decision trace says how much lag it allowed for', () => {
    const source: SourceOutcome = { kind: 'answered', answer: answer({ '1': { id: 1, name: 'new' } }), loadStartedAtMs: NOW };
    const [obs] = observationsOf(rule({ updatedAt: undefined }), { keys: keys('1'), reads: [stale], cacheReadAtMs: NOW, source, replicaLagMs: 1500 });
    const trace: string[] = [];
    classifyObservation(rule({ updatedAt: undefined }), obs!, trace);
    expect(trace).toContain('   replicas read up to 1500 ms behind: time comparisons allow clockSkew 100 ms + lag = skew 1600 ms');
  });
});

describe('the negative marker', () => {
  it('is the exact bytes of the marker, never a lossy decoding of other bytes, never a hash', () => {
    const r = rule({ negativeMarker: '\uFFFD' });
    expect(isNegativeMarker(r, Buffer.from('\uFFFD'))).toBe(true);
    // 0xFF is invalid UTF-8: it decodes to U+FFFD but is not the marker's bytes.
    expect(isNegativeMarker(r, Buffer.from([0xff]))).toBe(false);
    expect(isNegativeMarker(r, { '\uFFFD': Buffer.from('') })).toBe(false);
    expect(isNegativeMarker(rule(), Buffer.from('__none__'))).toBe(false);
  });
});
