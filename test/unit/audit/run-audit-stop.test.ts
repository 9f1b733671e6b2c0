import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/errors.js';
import { auditFakes, FakeCache, FakeSource, familiesOf, ITEM_FAMILY_YAML, json, type CachedEntry } from './fakes/pipeline.js';

// How an audit ends early: an abort (SIGINT) or a lost source keeps what was judged and reports the
// outcome incomplete; any other failure is thrown to the caller.
const FAMILIES = familiesOf(`${ITEM_FAMILY_YAML}  - name: other
    pattern: "other:{id}"
    source: main
    table: others
    key: id
    fields: [v]
    ttl: 300s
`);

function keyspace(scanPage = 100): { cache: FakeCache; source: FakeSource } {
  const ids = Array.from({ length: 50 }, (_, i) => String(i + 1));
  const cache = new FakeCache([
    ...ids.map((id): [string, CachedEntry] => [`item:${id}`, json({ v: 1 }, 100_000)]),
    ['other:1', json({ v: 1 }, 100_000)],
  ], scanPage);
  const source = new FakeSource({
    item: Object.fromEntries(ids.map((id) => [id, { v: 1 }])),
    other: { '1': { v: 1 } },
  });
  return { cache, source };
}

describe('stopping an audit mid-run', () => {
  it('an abort after the first batch stops reading: what was judged is kept, the outcome is incomplete', async () => {
    const { cache, source } = keyspace();
    const controller = new AbortController();
    const run = await auditFakes({
      families: FAMILIES,
      cache,
      source,
      options: { batch: 10 },
      signal: controller.signal,
      onFinding: () => controller.abort(),
    });
    expect(run.outcome).toMatchObject({ incomplete: true, abortReason: 'interrupted' });
    // Batches already started finish (at most two at --concurrency 1); no later one is read.
    expect(cache.reads.length).toBeGreaterThanOrEqual(1);
    expect(cache.reads.length).toBeLessThanOrEqual(2);
    expect(cache.reads.flat()).not.toContain('other:1');
    const sampled = run.outcome.total.counters().sampled;
    expect(sampled).toBe(cache.reads.flat().length);
    expect(run.findings).toHaveLength(sampled);
  });

  it('an abort while a --sample scan runs ends the scan at that reply and judges nothing', async () => {
    const { cache, source } = keyspace(10);
    const controller = new AbortController();
    cache.beforeScan = (call) => {
      if (call === 2) controller.abort();
    };
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { sample: 5 }, signal: controller.signal });
    expect(run.outcome).toMatchObject({ incomplete: true, abortReason: 'interrupted' });
    // The 50 keys of `item:*` come in 5 replies of 10: the scan stopped at the second.
    expect(cache.scanCalls).toBe(2);
    expect(cache.reads).toEqual([]);
    expect(source.loads).toEqual([]);
  });

  it('a source lost mid-run ends the audit incomplete with its message; the batch it lost is not reported', async () => {
    const { cache, source } = keyspace();
    source.beforeAnswer = (_ids, call) => {
      if (call === 2) throw new ConnectionError('source main: connection terminated');
    };
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { batch: 10 } });
    expect(run.outcome).toMatchObject({ incomplete: true, abortReason: 'source main: connection terminated' });
    expect(run.findings.map((f) => f.key)).toEqual(Array.from({ length: 10 }, (_, i) => `item:${i + 1}`));
    expect(source.loads.every((l) => l.family === 'item')).toBe(true);
    expect(source.loads.length).toBeLessThanOrEqual(3);
  });

  it('any other failure of a batch is thrown to the caller, not reported as an incomplete run', async () => {
    const { cache, source } = keyspace();
    source.beforeAnswer = () => {
      throw new TypeError('a bug in the loader');
    };
    await expect(auditFakes({ families: FAMILIES, cache, source })).rejects.toThrow('a bug in the loader');
  });
});
