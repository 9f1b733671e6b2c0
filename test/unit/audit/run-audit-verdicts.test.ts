import { beforeAll, describe, expect, it } from 'vitest';
import { auditFakes, FakeCache, FakeSource, familiesOf, json, type FakeRun } from './fakes/pipeline.js';

// The whole pipeline (scan → read → load → classify → tally) over a fake keyspace holding one key
// per SEMANTICS.md case, judged in one run: each test names the case its key stands for.
const S = 1000;
const NOW = Date.now();

// user: a budget (60 s) shorter than the TTL (300 s), so a stale window can exceed it.
// session: a budget equal to the TTL and no updatedAt, so a TTL alone can bound a deleted row.
const FAMILIES = familiesOf(`
  - name: user
    pattern: "user:{id}"
    source: main
    table: users
    key: id
    fields: [name, plan]
    updatedAt: updated_at
    ttl: 300s
    maxStaleness: 60s
    clockSkew: 1s
    negativeMarker: "__none__"
  - name: session
    pattern: "session:{id}"
    source: main
    table: sessions
    key: id
    fields: [user]
    ttl: 60s
`);

const pro = { name: 'Ada', plan: 'pro' };
const basic = { name: 'Ada', plan: 'basic' };
const changedAgo = (ms: number) => ({ ...pro, updated_at: new Date(NOW - ms) });

function keyspace(): { cache: FakeCache; source: FakeSource } {
  const cache = new FakeCache([
    ['user:1', json(pro, 100 * S)],
    ['user:2', json(basic, 5 * S)],
    ['user:3', json(basic, 200 * S)],
    ['user:4', json(basic, 290 * S)],
    ['user:5', json(basic, -1)],
    ['user:6', json(pro, -1)],
    ['user:7', json(pro, 100 * S)],
    ['user:8', { value: '__none__', pttlMs: 30 * S }],
    ['user:9', { value: '__none__', pttlMs: -1 }],
    ['user:10', json(pro, 100 * S)],
    ['user:11', json(pro, 100 * S)],
    ['user:12:settings', json({ theme: 'dark' }, 100 * S)],
    ['session:1', json({ user: 1 }, 30 * S)],
    ['session:2', json({ user: 2 }, -1)],
  ]);
  // user:10 expires after SCAN listed it and before the read.
  cache.beforeRead = () => cache.delete('user:10');
  const source = new FakeSource({
    user: {
      '1': changedAgo(500 * S),
      '2': changedAgo(50 * S),
      '3': changedAgo(90 * S),
      '4': changedAgo(60 * S),
      '5': changedAgo(500 * S),
      '6': changedAgo(500 * S),
      // 7 and 8: deleted at the source.
      '9': changedAgo(10 * S),
      '10': changedAgo(500 * S),
      '11': [changedAgo(500 * S), { ...changedAgo(500 * S), plan: 'basic' }],
    },
    session: {},
  });
  return { cache, source };
}

describe('runAudit over fake edges: one key per verdict', () => {
  let run: FakeRun;
  let source: FakeSource;
  let cache: FakeCache;
  beforeAll(async () => {
    ({ cache, source } = keyspace());
    run = await auditFakes({ families: FAMILIES, cache, source, options: { batch: 50 } });
  });

  it('equal payloads are a match, also with no TTL', () => {
    expect(run.finding('user:1')).toMatchObject({ verdict: 'match', family: 'user', step: 4 });
    expect(run.finding('user:6')).toMatchObject({ verdict: 'match', pttlMs: -1 });
  });

  it('a stale value whose window (change → expiry) fits maxStaleness is within-ttl/ttl-bounded', () => {
    const f = run.finding('user:2');
    expect(f).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7 });
    expect(f.diff).toEqual([{ path: 'plan', cache: 'basic', source: 'pro' }]);
    expect(f.staleAgeMs).toBeGreaterThanOrEqual(49 * S);
    expect(f.staleAgeMs).toBeLessThan(52 * S);
  });

  it('a missed invalidation whose window exceeds maxStaleness is divergent/stale-beyond-budget', () => {
    expect(run.finding('user:3')).toMatchObject({ verdict: 'divergent', reason: 'stale-beyond-budget', step: 7 });
  });

  it('an entry written after the row changed but holding the old value is divergent/stale-repopulated', () => {
    expect(run.finding('user:4')).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7 });
  });

  it('a stale entry with no TTL is divergent/no-ttl', () => {
    expect(run.finding('user:5')).toMatchObject({ verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1 });
  });

  it('a row deleted at the source while the key is cached is divergent/orphan when the TTL cannot bound it', () => {
    expect(run.finding('user:7')).toMatchObject({ verdict: 'divergent', reason: 'orphan', step: 3 });
    expect(run.finding('session:2')).toMatchObject({ verdict: 'divergent', reason: 'orphan', step: 3 });
  });

  it('a deleted row whose entry expires within the budget is within-ttl/ttl-bounded-assumed', () => {
    expect(run.finding('session:1')).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 3 });
  });

  it('the negative marker with no row is a match; with a row and no TTL it is divergent/no-ttl', () => {
    expect(run.finding('user:8')).toMatchObject({ verdict: 'match', step: 3 });
    expect(run.finding('user:9')).toMatchObject({ verdict: 'divergent', reason: 'no-ttl' });
  });

  it('a key gone between SCAN and read is skipped/vanished, and its row is never asked for', () => {
    expect(run.finding('user:10')).toMatchObject({ verdict: 'skipped', reason: 'vanished', step: 1 });
    expect(source.loads.flatMap((l) => l.ids)).not.toContain('10');
  });

  it('a source with two rows for one id makes the key error/source-error, not a judgement of either row', () => {
    const f = run.finding('user:11');
    expect(f).toMatchObject({ verdict: 'error', reason: 'source-error', step: 2 });
    expect(f.detail).toContain('more than one row');
  });

  it('a key the glob returns but no pattern claims is unmatched, never read nor loaded', () => {
    expect(run.findings.map((f) => f.key)).not.toContain('user:12:settings');
    expect(cache.reads.flat()).not.toContain('user:12:settings');
    expect(run.outcome.families.get('user')?.unmatched).toBe(1);
    expect(run.outcome.total.unmatched).toBe(1);
  });

  it('reads each family in one batch and asks the source for exactly the ids whose value is present', () => {
    expect(cache.reads).toEqual([
      ['user:1', 'user:2', 'user:3', 'user:4', 'user:5', 'user:6', 'user:7', 'user:8', 'user:9', 'user:10', 'user:11'],
      ['session:1', 'session:2'],
    ]);
    expect(source.loads).toEqual([
      { family: 'user', ids: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '11'] },
      { family: 'session', ids: ['1', '2'] },
    ]);
  });

  it('counts every verdict and reason per family and in total', () => {
    const user = run.outcome.families.get('user')?.counters();
    expect(user).toMatchObject({ sampled: 11, judged: 9, match: 3, withinTtl: 1, divergent: 5, error: 1, skipped: 1, unmatched: 1 });
    expect(user?.byReason).toMatchObject({
      'ttl-bounded': 1,
      'stale-beyond-budget': 1,
      'stale-repopulated': 1,
      'no-ttl': 2,
      orphan: 1,
      'source-error': 1,
      vanished: 1,
    });
    const session = run.outcome.families.get('session')?.counters();
    expect(session).toMatchObject({ sampled: 2, withinTtl: 1, divergent: 1, unmatched: 0 });
    expect(run.outcome.total.counters()).toMatchObject({ sampled: 13, match: 3, withinTtl: 2, divergent: 6, error: 1, skipped: 1 });
    expect(run.outcome.incomplete).toBe(false);
    expect(run.outcome.sourceFailures).toEqual([]);
  });
});
