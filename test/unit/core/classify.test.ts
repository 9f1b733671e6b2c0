import { describe, expect, it } from 'vitest';
import { classifyObservation, confirmJudgement } from '../../../src/core/classify.js';
import type { CacheRead, Observation, SourceRead } from '../../../src/core/observation.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import type { Judgement } from '../../../src/core/verdict.js';

const NOW = Date.parse('2026-01-01T12:00:00.000Z');
const S = 1000;

function rule(overrides: Partial<FamilyRule> = {}): FamilyRule {
  return {
    name: 'user-profile',
    pattern: { source: 'user:{id}', glob: 'user:*', placeholders: ['id'], match: () => undefined, render: (id) => `user:${id}` },
    type: 'string',
    codec: 'json',
    source: 'main',
    key: ['id'],
    fields: ['name', 'plan'],
    ttlMs: 300 * S,
    maxStalenessMs: 300 * S,
    clockSkewMs: 1 * S,
    normalize: {},
    redact: [],
    ...overrides,
  };
}

const cached = (payload: unknown, pttlMs = 100 * S): CacheRead => ({
  kind: 'present',
  redisType: 'string',
  value: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  pttlMs,
});
const row = (r: Record<string, unknown>): SourceRead => ({ kind: 'row', row: r });
const absent: SourceRead = { kind: 'absent' };

function judge(r: FamilyRule, cache: CacheRead, source: SourceRead, nowMs = NOW): Judgement {
  const obs: Observation = { key: 'user:1', cache, source, nowMs };
  return classifyObservation(r, obs);
}

const fresh = { name: 'Ada', plan: 'pro' };
const old = { name: 'Ada', plan: 'basic' };

describe('step 1: nothing to judge', () => {
  it('a key gone at read time is skipped/vanished', () => {
    expect(judge(rule(), { kind: 'gone' }, row(fresh))).toMatchObject({ verdict: 'skipped', reason: 'vanished', step: 1 });
  });
  it('PTTL -2 (expired between SCAN and read) is skipped/vanished', () => {
    expect(judge(rule(), cached(fresh, -2), row(fresh))).toMatchObject({ verdict: 'skipped', reason: 'vanished' });
  });
  it('a Redis type other than the rule expects is skipped/wrong-type', () => {
    const list: CacheRead = { kind: 'present', redisType: 'list', value: Buffer.from(''), pttlMs: 5 };
    expect(judge(rule(), list, row(fresh))).toMatchObject({ verdict: 'skipped', reason: 'wrong-type', step: 1 });
  });
  it('a value over the size limit is skipped/too-large', () => {
    const big: CacheRead = { kind: 'too-large', redisType: 'string', size: 5_000_000, unit: 'bytes' };
    expect(judge(rule(), big, row(fresh))).toMatchObject({ verdict: 'skipped', reason: 'too-large', step: 1, detail: '5000000 bytes, over the size limit' });
    const wide: CacheRead = { kind: 'too-large', redisType: 'hash', size: 20_000, unit: 'fields' };
    expect(judge(rule({ type: 'hash' }), wide, row(fresh))).toMatchObject({ verdict: 'skipped', reason: 'too-large', detail: '20000 fields, over the size limit' });
  });
});

describe('step 2: unjudgeable reads are errors', () => {
  it('a value that does not decode is error/undecodable', () => {
    expect(judge(rule(), cached('{not json'), row(fresh))).toMatchObject({ verdict: 'error', reason: 'undecodable', step: 2 });
  });
  it('the negative marker is not decoded (it is not JSON)', () => {
    expect(judge(rule({ negativeMarker: '__none__' }), cached('__none__'), absent)).toMatchObject({ verdict: 'match' });
  });
  it('a failed loader is error/source-error', () => {
    const j = judge(rule(), cached(fresh), { kind: 'error', message: 'relation "users" does not exist', timeout: false });
    expect(j).toMatchObject({ verdict: 'error', reason: 'source-error', detail: 'relation "users" does not exist' });
  });
  it('a loader that timed out is error/timeout', () => {
    expect(judge(rule(), cached(fresh), { kind: 'error', message: 'statement timeout', timeout: true })).toMatchObject({
      verdict: 'error',
      reason: 'timeout',
    });
  });
  it('a failed cache read is error/cache-error', () => {
    expect(judge(rule(), { kind: 'error', message: 'READONLY' }, row(fresh))).toMatchObject({ verdict: 'error', reason: 'cache-error' });
  });
  it('an undecodable value wins over a loader failure (decoding is checked first)', () => {
    const j = judge(rule(), cached('{'), { kind: 'error', message: 'x', timeout: false });
    expect(j.reason).toBe('undecodable');
  });
});

describe('step 3: the source row is absent', () => {
  it('the negative marker with no row is a match', () => {
    expect(judge(rule({ negativeMarker: '__none__' }), cached('__none__'), absent)).toMatchObject({ verdict: 'match', step: 3 });
  });
  it('a value with no row and a TTL inside the budget is within-ttl/ttl-bounded-assumed', () => {
    expect(judge(rule(), cached(old, 100 * S), absent)).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 3 });
  });
  it('a value with no row and no expiry (PTTL -1) is divergent/orphan', () => {
    expect(judge(rule(), cached(old, -1), absent)).toMatchObject({ verdict: 'divergent', reason: 'orphan', step: 3 });
  });
  it('pttl exactly ttl + clockSkew still counts as bounded', () => {
    expect(judge(rule(), cached(old, 301 * S), absent).reason).toBe('ttl-bounded-assumed');
  });
  it('pttl one ms past ttl + clockSkew is divergent/orphan', () => {
    expect(judge(rule(), cached(old, 301 * S + 1), absent).reason).toBe('orphan');
  });
  it('pttl 0 (expiring now) is bounded', () => {
    expect(judge(rule(), cached(old, 0), absent).reason).toBe('ttl-bounded-assumed');
  });
  it('a declared TTL longer than the budget makes a missing row divergent/orphan', () => {
    expect(judge(rule({ maxStalenessMs: 60 * S }), cached(old, 10 * S), absent).reason).toBe('orphan');
  });
  it('the negative marker while the row exists goes on from step 6 (pttl within ttl, no updatedAt: assumed)', () => {
    const j = judge(rule({ negativeMarker: '__none__' }), cached('__none__', 10 * S), row(fresh));
    expect(j).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 8 });
    expect(j.diff).toHaveLength(1);
  });
  it('the negative marker with no expiry while the row exists is divergent/no-ttl', () => {
    expect(judge(rule({ negativeMarker: '__none__' }), cached('__none__', -1), row(fresh))).toMatchObject({
      verdict: 'divergent',
      reason: 'no-ttl',
      step: 6,
    });
  });
});

describe('step 4: equal payloads match', () => {
  it('equal compared fields are a match with no diff', () => {
    expect(judge(rule(), cached(fresh), row({ ...fresh, id: 1 }))).toEqual({ verdict: 'match', step: 4, diff: [], pttlMs: 100 * S });
  });
  it('fields outside the compared set do not matter', () => {
    expect(judge(rule(), cached({ ...fresh, extra: 1 }), row({ ...fresh, other: 2 })).verdict).toBe('match');
  });
  it('equal payloads with equal versions given as string and number match', () => {
    const r = rule({ version: 'version' });
    expect(judge(r, cached({ ...fresh, version: 7 }), row({ ...fresh, version: '7' })).verdict).toBe('match');
  });
  it('equal compared fields with an older cache version are not a match', () => {
    const r = rule({ version: 'version' });
    const j = judge(r, cached({ ...fresh, version: 6 }), row({ ...fresh, version: 7 }));
    expect(j.verdict).not.toBe('match');
    expect(j.diff).toEqual([{ path: 'version', cache: 6, source: 7 }]);
  });
});

describe('step 5: versions decide who is ahead', () => {
  const r = rule({ version: 'version' });
  it('a cache version newer than the source is divergent/cache-ahead', () => {
    const j = judge(r, cached({ ...old, version: 5 }), row({ ...fresh, version: 4 }));
    expect(j).toMatchObject({ verdict: 'divergent', reason: 'cache-ahead', step: 5, cacheVersion: 5, sourceVersion: 4 });
  });
  it('equal versions with different payloads are divergent/payload-drift', () => {
    expect(judge(r, cached({ ...old, version: '4' }), row({ ...fresh, version: 4 }))).toMatchObject({
      verdict: 'divergent',
      reason: 'payload-drift',
      step: 5,
    });
  });
  it('versions compared as numbers, not strings ("10" > 9)', () => {
    expect(judge(r, cached({ ...old, version: '10' }), row({ ...fresh, version: 9 })).reason).toBe('cache-ahead');
  });
  it('an older cache version falls through to the TTL steps', () => {
    expect(judge(r, cached({ ...old, version: 3 }), row({ ...fresh, version: 4 })).step).toBeGreaterThan(5);
  });
  it('no declared version falls through to the TTL steps', () => {
    expect(judge(rule(), cached(old), row(fresh)).step).toBeGreaterThan(5);
  });
});

describe('step 6: expiry that cannot bound the staleness', () => {
  it('a stale entry with no expiry (PTTL -1) is divergent/no-ttl', () => {
    expect(judge(rule(), cached(old, -1), row(fresh))).toMatchObject({ verdict: 'divergent', reason: 'no-ttl', step: 6 });
  });
  it('pttl past ttl + clockSkew is divergent/ttl-exceeds-declared', () => {
    expect(judge(rule(), cached(old, 301 * S + 1), row(fresh))).toMatchObject({ reason: 'ttl-exceeds-declared', step: 6 });
  });
  it('pttl exactly ttl + clockSkew is not ttl-exceeds-declared', () => {
    expect(judge(rule(), cached(old, 301 * S), row(fresh)).reason).not.toBe('ttl-exceeds-declared');
  });
});

describe('step 7: the source change time is known', () => {
  const r = rule({ updatedAt: 'updated_at' });
  // Written 200 s ago with a 300 s TTL: pttl 100 s. The row changed `changedAgo` before now.
  const at = (changedAgoMs: number) => new Date(NOW - changedAgoMs);

  it('an entry written after the row changed, holding the older value, is divergent/stale-repopulated', () => {
    const j = judge(r, cached(old, 100 * S), row({ ...fresh, updated_at: at(250 * S) }));
    expect(j).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7, staleAgeMs: 250 * S });
    expect(j.diff).toEqual([{ path: 'plan', cache: 'basic', source: 'pro' }]);
  });
  // A roomy budget so these two isolate the repopulation test from the window test.
  const roomy = rule({ updatedAt: 'updated_at', maxStalenessMs: 400 * S });
  it('an estimated write exactly at updatedAt + clockSkew is not a repopulation', () => {
    // w = now - 200 s; updatedAt + skew = w  =>  updatedAt = now - 201 s
    expect(judge(roomy, cached(old, 100 * S), row({ ...fresh, updated_at: at(201 * S) })).reason).toBe('ttl-bounded');
  });
  it('an estimated write 1 ms past updatedAt + clockSkew is a repopulation', () => {
    expect(judge(roomy, cached(old, 100 * S), row({ ...fresh, updated_at: at(201 * S + 1) })).reason).toBe('stale-repopulated');
  });
  it('a stale window that fits the budget is within-ttl/ttl-bounded', () => {
    // written 200 s ago, row changed 100 s ago: window = (now + 100 s) - (now - 100 s) = 200 s
    const j = judge(r, cached(old, 100 * S), row({ ...fresh, updated_at: at(100 * S) }));
    expect(j).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, staleAgeMs: 100 * S });
  });
  it('a stale window exactly at maxStaleness is within-ttl/ttl-bounded', () => {
    // window = (now + pttl) - updatedAt = 100 s + 200 s = 300 s = maxStaleness
    expect(judge(r, cached(old, 100 * S), row({ ...fresh, updated_at: at(200 * S) })).reason).toBe('ttl-bounded');
  });
  it('a stale window 1 ms beyond maxStaleness is divergent/stale-beyond-budget', () => {
    // Budget 299.999 s so the window of exactly 300 s is over it, with the write time still before the change.
    const tight = rule({ updatedAt: 'updated_at', maxStalenessMs: 300 * S - 1 });
    expect(judge(tight, cached(old, 100 * S), row({ ...fresh, updated_at: at(200 * S) }))).toMatchObject({
      verdict: 'divergent',
      reason: 'stale-beyond-budget',
      step: 7,
    });
  });
  it('updatedAt given as an ISO string is read as a time', () => {
    const j = judge(r, cached(old, 100 * S), row({ ...fresh, updated_at: at(250 * S).toISOString() }));
    expect(j.reason).toBe('stale-repopulated');
  });
  it('a null updatedAt is unknown: step 8 decides', () => {
    expect(judge(r, cached(old, 100 * S), row({ ...fresh, updated_at: null })).step).toBe(8);
  });
});

describe('step 8: the source change time is unknown', () => {
  it('a declared TTL within the budget is within-ttl/ttl-bounded-assumed', () => {
    expect(judge(rule(), cached(old, 100 * S), row(fresh))).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 8 });
  });
  it('a declared TTL exactly at the budget is within-ttl', () => {
    expect(judge(rule({ maxStalenessMs: 300 * S }), cached(old), row(fresh)).verdict).toBe('within-ttl');
  });
  it('a declared TTL longer than the budget is divergent/stale-beyond-budget', () => {
    expect(judge(rule({ maxStalenessMs: 300 * S - 1 }), cached(old), row(fresh))).toMatchObject({
      verdict: 'divergent',
      reason: 'stale-beyond-budget',
      step: 8,
    });
  });
});

describe('step 9: the confirmation re-read', () => {
  const divergent = judge(rule(), cached(old, -1), row(fresh));
  it('a divergent key that matches on the re-read is within-ttl/converged', () => {
    const second = judge(rule(), cached(fresh, -1), row(fresh));
    expect(confirmJudgement(divergent, second)).toMatchObject({ verdict: 'within-ttl', reason: 'converged', step: 9 });
  });
  it('a divergent key that still differs is judged on the second observation', () => {
    const second = judge(rule(), cached(old, 400 * S), row(fresh));
    expect(confirmJudgement(divergent, second)).toBe(second);
  });
  it('a re-read that errors leaves the first judgement standing', () => {
    const second = judge(rule(), { kind: 'error', message: 'timeout' }, row(fresh));
    expect(confirmJudgement(divergent, second)).toBe(divergent);
  });
  it('keys that were not divergent are not changed by a re-read', () => {
    const within = judge(rule(), cached(old), row(fresh));
    expect(confirmJudgement(within, judge(rule(), cached(fresh), row(fresh)))).toBe(within);
  });
});

describe('trace', () => {
  it('records each step evaluated up to the deciding one', () => {
    const trace: string[] = [];
    classifyObservation(rule(), { key: 'k', cache: cached(old, -1), source: row(fresh), nowMs: NOW }, trace);
    expect(trace.map((l) => l.slice(0, 2))).toEqual(['1.', '2.', '3.', '4.', '5.', '6.']);
    expect(trace.at(-1)).toContain('no expiry');
  });
});

describe('TTL advice', () => {
  it('is maxStaleness + (updatedAt - estimated write): the largest TTL that keeps this window in budget', () => {
    // Written 100 s ago (ttl 300, pttl 200), row changed 30 s ago: a TTL up to 300 + 70 = 370 s keeps it.
    const r = rule({ updatedAt: 'updated_at' });
    const j = judge(r, cached(old, 200 * S), row({ ...fresh, updated_at: new Date(NOW - 30 * S) }));
    expect(j.reason).toBe('ttl-bounded');
    expect(j.ttlAdviceMs).toBe(370 * S);
  });
  it('is 0 when even no TTL at all could have kept the budget (repopulated long after the change)', () => {
    const r = rule({ updatedAt: 'updated_at', maxStalenessMs: 10 * S });
    // Written 10 s ago, changed 100 s ago: 10 + (-90) < 0.
    const j = judge(r, cached(old, 290 * S), row({ ...fresh, updated_at: new Date(NOW - 100 * S) }));
    expect(j.reason).toBe('stale-repopulated');
    expect(j.ttlAdviceMs).toBe(0);
  });
  it('is absent when the change time is unknown', () => {
    expect(judge(rule(), cached(old, 200 * S), row(fresh)).ttlAdviceMs).toBeUndefined();
  });
});

describe('replica lag', () => {
  it('widens the clock-skew tolerance: a repopulation within the lag is not called a race', () => {
    const r = rule({ updatedAt: 'updated_at', maxStalenessMs: 400 * S });
    // Estimated write 200 s ago, row changed 203 s ago: 2 s past updatedAt + skew (1 s) ...
    const obs = (lag?: number): Observation => ({
      key: 'user:1',
      cache: cached(old, 100 * S),
      source: row({ ...fresh, updated_at: new Date(NOW - 203 * S) }),
      nowMs: NOW,
      ...(lag === undefined ? {} : { replicaLagMs: lag }),
    });
    expect(classifyObservation(r, obs()).reason).toBe('stale-repopulated');
    // ... but reading replicas 5 s behind, the write may have happened before the change.
    expect(classifyObservation(r, obs(5 * S)).reason).toBe('ttl-bounded');
  });
  it('widens the TTL bound of step 6 too', () => {
    const base = { key: 'user:1', cache: cached(old, 303 * S), source: row(fresh), nowMs: NOW };
    expect(classifyObservation(rule(), base).reason).toBe('ttl-exceeds-declared');
    expect(classifyObservation(rule(), { ...base, replicaLagMs: 3 * S }).reason).not.toBe('ttl-exceeds-declared');
  });
});
