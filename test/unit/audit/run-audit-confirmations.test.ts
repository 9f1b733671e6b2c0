import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceQueryError } from '../../../src/sources/types.js';
import { auditFakes, FakeCache, FakeSource, familiesOf, ITEM_FAMILY_YAML, json, type FakeRun } from './fakes/pipeline.js';

// The confirmation queue sleeps with node:timers/promises, which vitest's fake timers do not
// replace: route it through the global setTimeout they do, so a minute's delay passes at once.
vi.mock('node:timers/promises', () => ({
  setTimeout: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
}));

const FAMILIES = familiesOf(ITEM_FAMILY_YAML);
const DELAY_MS = 60_000;

/**
 * item:1 and item:2 are cached stale with no TTL (divergent/no-ttl on the first read); item:3
 * matches. The fake clock only moves when the test advances it.
 */
function keyspace(): { cache: FakeCache; source: FakeSource; readAt: number[] } {
  const cache = new FakeCache([
    ['item:1', json({ v: 'old' }, -1)],
    ['item:2', json({ v: 'old' }, -1)],
    ['item:3', json({ v: 'new' }, 100_000)],
  ]);
  const source = new FakeSource({ item: { '1': { v: 'new' }, '2': { v: 'new' }, '3': { v: 'new' } } });
  const readAt: number[] = [];
  cache.beforeRead = () => void readAt.push(Date.now());
  return { cache, source, readAt };
}

/** Runs the audit, moving the fake clock a second at a time until it ends. */
async function auditWithClock(setup: Parameters<typeof auditFakes>[0]): Promise<FakeRun> {
  let run: FakeRun | undefined;
  let failure: unknown;
  auditFakes(setup).then(
    (r) => (run = r),
    (e: unknown) => (failure = e),
  );
  for (let s = 0; run === undefined && failure === undefined; s++) {
    if (s > 600) throw new Error('the audit did not end within ten fake minutes');
    await vi.advanceTimersByTimeAsync(1000);
  }
  if (failure !== undefined) throw failure;
  return run as FakeRun;
}

describe('confirmation re-read', () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('re-reads only the divergent suspects, after the delay: a write that landed meanwhile converges, a stale entry stays divergent', async () => {
    const { cache, source, readAt } = keyspace();
    // The writer of item:1 committed to the source before the first query and sets the cache after it.
    source.beforeAnswer = (_ids, call) => {
      if (call === 1) cache.set('item:1', json({ v: 'new' }, 300_000));
    };
    const run = await auditWithClock({ families: FAMILIES, cache, source, options: { confirmDelayMs: DELAY_MS } });

    expect(cache.reads).toEqual([['item:1', 'item:2', 'item:3'], ['item:1', 'item:2']]);
    expect(source.loads.map((l) => l.ids)).toEqual([['1', '2', '3'], ['1', '2']]);
    const waited = (readAt[1] as number) - (readAt[0] as number);
    expect(waited).toBeGreaterThanOrEqual(DELAY_MS);
    expect(waited).toBeLessThanOrEqual(DELAY_MS * 1.5 + 1000);

    expect(run.finding('item:1')).toMatchObject({ verdict: 'within-ttl', reason: 'converged', step: 9, pttlMs: 300_000 });
    expect(run.finding('item:2')).toMatchObject({ verdict: 'divergent', reason: 'no-ttl', step: 6 });
    expect(run.finding('item:3')).toMatchObject({ verdict: 'match' });
    expect(run.outcome.total.counters()).toMatchObject({ sampled: 3, match: 1, withinTtl: 1, divergent: 1 });
    expect(run.outcome.total.counters().byReason).toMatchObject({ converged: 1, 'no-ttl': 1 });
  });

  it('a suspect whose second read is a different divergence is reported by the second read', async () => {
    const { cache, source } = keyspace();
    // item:2 is rewritten (still stale) with a TTL longer than declared before its re-read.
    source.beforeAnswer = (_ids, call) => {
      if (call === 1) cache.set('item:2', json({ v: 'old' }, 900_000));
    };
    const run = await auditWithClock({ families: FAMILIES, cache, source, options: { confirmDelayMs: DELAY_MS } });
    expect(run.finding('item:2')).toMatchObject({ verdict: 'divergent', reason: 'ttl-exceeds-declared', pttlMs: 900_000 });
  });

  it('a re-read the source fails leaves the first judgement, and no batch counts as not judged', async () => {
    const { cache, source } = keyspace();
    source.beforeAnswer = (_ids, call) => {
      if (call === 2) throw new SourceQueryError('connection reset on re-read', { timeout: false });
    };
    const run = await auditWithClock({ families: FAMILIES, cache, source, options: { confirmDelayMs: DELAY_MS } });
    expect(source.loads).toHaveLength(2);
    expect(run.finding('item:1')).toMatchObject({ verdict: 'divergent', reason: 'no-ttl' });
    expect(run.outcome.total.counters()).toMatchObject({ divergent: 2, error: 0 });
    // Every key of the batch was judged on its first read: the gate must not call them unjudged.
    expect(run.outcome.sourceFailures).toEqual([]);
  });

  it('with a delay of 0 nothing is re-read and the first read decides', async () => {
    const { cache, source } = keyspace();
    source.beforeAnswer = () => cache.set('item:1', json({ v: 'new' }, 300_000));
    const run = await auditWithClock({ families: FAMILIES, cache, source, options: { confirmDelayMs: 0 } });
    expect(cache.reads).toHaveLength(1);
    expect(run.finding('item:1')).toMatchObject({ verdict: 'divergent', reason: 'no-ttl' });
  });
});
