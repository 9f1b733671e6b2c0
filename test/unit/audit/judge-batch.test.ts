import { describe, expect, it } from 'vitest';
import { confirmSuspects, judgeBatch, type BatchContext } from '../../../src/audit/judge-batch.js';
import type { KeyRef } from '../../../src/audit/key-ref.js';
import { SILENT_LOG } from '../../../src/audit/log.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { SourceQueryError } from '../../../src/sources/types.js';
import { FakeCache, FakeSource, familiesOf, ITEM_FAMILY_YAML, json } from './fakes/pipeline.js';

// judgeBatch and confirmSuspects alone: which ids one batch asks the source for, what goes back as
// a suspect, and what the batch tells its callbacks.
const [ITEM] = familiesOf(ITEM_FAMILY_YAML) as [FamilyRule];
const refs = (...ids: string[]): KeyRef[] => ids.map((id) => ({ raw: Buffer.from(`item:${id}`), key: `item:${id}`, id }));

function context(cache: FakeCache, source: FakeSource, overrides: Partial<BatchContext> = {}): BatchContext {
  return { cache, loader: source, throttle: { take: async () => {} }, maxValueBytes: 100, confirmDelayMs: 0, log: SILENT_LOG, ...overrides };
}

function keyspace(): { cache: FakeCache; source: FakeSource } {
  const cache = new FakeCache([
    ['item:1', json({ v: 1 }, 1000)],
    ['item:2', json({ v: 'old' }, -1)],
    ['item:3', { value: 'x', pttlMs: 1000, redisType: 'list' }],
    ['item:4', { value: 'y'.repeat(101), pttlMs: 1000 }],
  ]);
  const source = new FakeSource({ item: { '1': { v: 1 }, '2': { v: 'new' }, '3': { v: 1 }, '4': { v: 1 }, '5': { v: 1 } } });
  return { cache, source };
}

describe('judgeBatch', () => {
  it('asks the source only for the keys whose value was read, and judges the others from the cache read', async () => {
    const { cache, source } = keyspace();
    const outcome = await judgeBatch(ITEM, refs('1', '2', '3', '4', '5'), context(cache, source));
    expect(source.loads).toEqual([{ family: 'item', ids: ['1', '2'] }]);
    expect(outcome.findings.map((f) => [f.key, f.verdict, f.reason])).toEqual([
      ['item:1', 'match', undefined],
      ['item:2', 'divergent', 'no-ttl'],
      ['item:3', 'skipped', 'wrong-type'],
      ['item:4', 'skipped', 'too-large'],
      ['item:5', 'skipped', 'vanished'],
    ]);
    expect(outcome.suspects).toEqual([]);
  });

  it('sends no query for a batch with no value to compare', async () => {
    const { cache, source } = keyspace();
    const outcome = await judgeBatch(ITEM, refs('3', '4', '5'), context(cache, source));
    expect(source.loads).toEqual([]);
    expect(outcome.findings).toHaveLength(3);
  });

  it('with a confirmation delay, hands the divergent keys back as suspects; confirmSuspects re-reads only them', async () => {
    const { cache, source } = keyspace();
    const observed: string[][] = [];
    const ctx = context(cache, source, { confirmDelayMs: 50, onObserved: (obs) => void observed.push(obs.map((o) => o.key)) });
    const outcome = await judgeBatch(ITEM, refs('1', '2'), ctx);
    expect(outcome.findings.map((f) => f.key)).toEqual(['item:1']);
    expect(outcome.suspects.map((s) => [s.ref.key, s.judgement.reason])).toEqual([['item:2', 'no-ttl']]);

    cache.set('item:2', json({ v: 'new' }, 1000));
    const confirmed = await confirmSuspects(ITEM, outcome.suspects, ctx);
    expect(cache.reads).toEqual([['item:1', 'item:2'], ['item:2']]);
    expect(confirmed).toMatchObject([{ key: 'item:2', family: 'item', verdict: 'within-ttl', reason: 'converged' }]);
    // The re-read is not a first read: the cached-field sample sees each key once.
    expect(observed).toEqual([['item:1', 'item:2']]);
  });

  it('tells onBatchFailed how many keys the failed query held, and judges them error/source-error', async () => {
    const { cache, source } = keyspace();
    source.beforeAnswer = () => {
      throw new SourceQueryError('syntax error at or near "FROM"', { timeout: false });
    };
    const failed: [number, string][] = [];
    const outcome = await judgeBatch(ITEM, refs('1', '2', '5'), context(cache, source, { onBatchFailed: (keys, message) => void failed.push([keys, message]) }));
    expect(failed).toEqual([[2, 'syntax error at or near "FROM"']]);
    expect(outcome.findings.map((f) => f.reason)).toEqual(['source-error', 'source-error', 'vanished']);
  });

  it('a confirmation re-read whose query fails keeps the first judgement and is no failed batch', async () => {
    const { cache, source } = keyspace();
    const failed: number[] = [];
    const ctx = context(cache, source, { confirmDelayMs: 50, onBatchFailed: (keys) => void failed.push(keys) });
    const outcome = await judgeBatch(ITEM, refs('2'), ctx);
    source.beforeAnswer = () => {
      throw new SourceQueryError('canceling statement due to conflict with recovery', { timeout: false });
    };
    const confirmed = await confirmSuspects(ITEM, outcome.suspects, ctx);
    expect(confirmed).toMatchObject([{ key: 'item:2', verdict: 'divergent', reason: 'no-ttl' }]);
    expect(failed).toEqual([]);
  });
});
