import { describe, expect, it } from 'vitest';
import { auditFakes, FakeCache, FakeSource, familiesOf, json, type CachedEntry } from './fakes/pipeline.js';

// The planner's draws through the whole pipeline: the method each family's report states, the
// keys it judged, the keyspace coverage, and --until-confident.
const FAMILIES = familiesOf(`
  - name: big
    pattern: "big:{id}"
    source: main
    table: bigs
    key: id
    fields: [v]
    ttl: 300s
    minConsistency: 0.5
  - name: rare
    pattern: "rare:{id}"
    source: main
    table: rares
    key: id
    fields: [v]
    ttl: 300s
`);
const entry = json({ v: 1 }, 100_000);

/** `big` holds `bigs` keys, `rare` 100 (with 20 rows that have no cache entry), and junk the rest. */
function keyspace(bigs: number, junk: number): { cache: FakeCache; source: FakeSource } {
  const keys: [string, CachedEntry][] = [];
  for (let i = 0; i < bigs; i++) keys.push([`big:${i}`, entry]);
  for (let i = 0; i < 100; i++) keys.push([`rare:${i}`, entry]);
  for (let i = 0; i < junk; i++) keys.push([i % 3 === 0 ? `session:${i}` : `lock:job:${i}`, entry]);
  const rows = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { v: 1 }]));
  const cache = new FakeCache(keys, 1000).withRandomKeys();
  const source = new FakeSource({ big: rows(bigs), rare: rows(120) }).withSampleIds();
  return { cache, source };
}

describe('sampling methods through the pipeline', () => {
  it('a full pass: one SCAN for both families, exact unmatched with its commonest prefixes', async () => {
    const { cache, source } = keyspace(300, 600);
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { sample: 50, sampling: 'auto' } });
    // 1000 keys in replies of 1000: one SCAN call (and a last empty one is not sent by the fake).
    expect(cache.scanCalls).toBe(1);
    expect(cache.randomCalls).toBe(0);
    expect(run.outcome.sampling.get('big')).toMatchObject({ method: 'scan', examined: 1000, redisCalls: 1 });
    expect(run.outcome.sampling.get('big')?.why).toMatch(/keyspace is small \(1,000 keys\).*shared by 2 families/);
    expect(run.outcome.total.counters()).toMatchObject({ sampled: 100, unmatched: 600 });
    expect(run.outcome.keyspace).toMatchObject({ unmatched: 600, exact: true });
    expect(run.outcome.keyspace.uncoveredPrefixes).toEqual([
      { prefix: 'lock:job:', keys: 400 },
      { prefix: 'session:', keys: 200 },
    ]);
  });

  it('--sampling random: RANDOMKEY keys of the family only, each once; unmatched estimated from the pilot', async () => {
    const { cache, source } = keyspace(300, 600);
    const run = await auditFakes({ families: FAMILIES.slice(0, 1), cache, source, options: { sample: 40, sampling: 'random', batch: 50 } });
    expect(cache.scanCalls).toBe(0);
    const keys = run.findings.map((f) => f.key);
    expect(keys).toHaveLength(40);
    expect(new Set(keys).size).toBe(40);
    expect(keys.every((k) => k.startsWith('big:'))).toBe(true);
    const report = run.outcome.sampling.get('big');
    expect(report).toMatchObject({ method: 'random', why: '--sampling random' });
    expect(report?.bias).toMatch(/--seed cannot reproduce/);
    expect(report?.redisCalls).toBeGreaterThanOrEqual(100);
    // 2000 pilot replies, ~60% unclaimed, × DBSIZE 1000.
    expect(run.outcome.keyspace.exact).toBe(false);
    expect(run.outcome.keyspace.unmatched).toBeGreaterThan(500);
    expect(run.outcome.keyspace.unmatched).toBeLessThan(700);
    expect(run.outcome.total.unmatched).toBe(run.outcome.keyspace.unmatched);
  });

  it('--sampling source: rows rendered into keys; rows without a cache entry are counted, not judged', async () => {
    const { cache, source } = keyspace(300, 600);
    const run = await auditFakes({ families: FAMILIES.slice(1), cache, source, options: { sample: 110, sampling: 'source', seed: 0 } });
    const report = run.outcome.sampling.get('rare');
    expect(report?.method).toBe('source');
    expect(report?.bias).toMatch(/orphan/);
    expect(report?.notCached).toBe(10);
    expect(run.findings).toHaveLength(100);
    expect(run.findings.every((f) => f.verdict === 'match')).toBe(true);
  });

  it('auto on a large keyspace: random for the ~10% family, source for the rare one with a table', async () => {
    const { cache, source } = keyspace(12_000, 108_000);
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { sample: 50, sampling: 'auto' } });
    expect(cache.scanCalls).toBe(0);
    expect(run.outcome.sampling.get('big')?.method).toBe('random');
    expect(run.outcome.sampling.get('big')?.why).toMatch(/~(9\.\d|1\d)% of 120,100 keys/);
    expect(run.outcome.sampling.get('rare')?.method).toBe('source');
    // The pilot (2000) plus the big family's draw: far below a SCAN's 120,100 keys.
    expect(cache.randomCalls).toBeLessThan(5000);
    expect(run.outcome.families.get('big')?.counters().sampled).toBe(50);
    expect(run.outcome.keyspace.exact).toBe(false);
    expect(run.outcome.keyspace.uncoveredPrefixes.map((p) => p.prefix)).toEqual(['lock:job:', 'session:']);
  });

  it('--until-confident stops a family once the bound clears its minConsistency, and says after how many keys', async () => {
    const { cache, source } = keyspace(300, 0);
    const run = await auditFakes({ families: FAMILIES.slice(0, 1), cache, source, options: { sample: 300, batch: 10, untilConfident: {} } });
    const report = run.outcome.sampling.get('big');
    expect(report?.stoppedEarly?.because).toBe('passes');
    expect(report?.stoppedEarly?.afterKeys).toBeLessThan(300);
    expect(run.outcome.families.get('big')?.counters().judged).toBeLessThan(300);
  });

  // --all judges every family together from one pass that waits for a full queue: a judge that
  // throws, or an aborted run, must end the pass and the run, never leave it waiting (a hang here
  // fails the test by its timeout).
  it('--all: a family whose judge throws ends the whole run (no family left waiting on the pass)', async () => {
    const { cache, source } = keyspace(300, 600);
    source.beforeAnswer = (_ids, call) => {
      if (call === 3) throw new Error('judge bug');
    };
    await expect(auditFakes({ families: FAMILIES, cache, source, options: { sample: 'all', batch: 10, scanCount: 10 } })).rejects.toThrow('judge bug');
    // Stopped soon after the failure: far fewer queries than the 40 batches of the two families.
    expect(source.loads.length).toBeLessThan(10);
  });

  it('--all: an aborted run ends, incomplete, with the pass not complete and unmatched not called exact', async () => {
    const { cache, source } = keyspace(300, 600);
    const abort = new AbortController();
    source.beforeAnswer = (_ids, call) => {
      if (call === 3) abort.abort();
    };
    const run = await auditFakes({ families: FAMILIES, cache, source, signal: abort.signal, options: { sample: 'all', batch: 10, scanCount: 10 } });
    expect(run.outcome.incomplete).toBe(true);
    expect(run.outcome.keyspace.exact).toBe(false);
    expect(source.loads.length).toBeLessThan(10);
  });

  it('--until-confident without a threshold for a family is a usage error naming it', async () => {
    const { cache, source } = keyspace(10, 0);
    await expect(auditFakes({ families: FAMILIES, cache, source, options: { sample: 10, untilConfident: {} } })).rejects.toThrow(/family "rare"/);
  });
});
