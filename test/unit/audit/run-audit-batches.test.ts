import { describe, expect, it } from 'vitest';
import { BATCH_VALUE_BYTES } from '../../../src/audit/governor.js';
import { evaluateGate } from '../../../src/core/gate.js';
import { SourceQueryError } from '../../../src/sources/types.js';
import { auditFakes, FakeCache, FakeSource, familiesOf, ITEM_FAMILY_YAML, json } from './fakes/pipeline.js';

// How runAudit cuts a family into batches, what a failed batch counts as, how many batches run at
// once, and what --sample reads: asserted on what the fake reader and loader were asked for.
const FAMILIES = familiesOf(ITEM_FAMILY_YAML);

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** `item:1` … `item:n`, each cached equal to its row; SCAN replies of `scanPage` keys. */
function items(n: number, scanPage = 100): { cache: FakeCache; source: FakeSource } {
  const all = ids(1, n);
  const cache = new FakeCache(
    all.map((id) => [`item:${id}`, json({ v: Number(id) }, 100_000)]),
    scanPage,
  );
  const source = new FakeSource({ item: Object.fromEntries(all.map((id) => [id, { id: Number(id), v: Number(id) }])) });
  return { cache, source };
}

/** Lets other batches start: a query held over a few turns of the event loop, no timer. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('batch splitting', () => {
  it('cuts the keys into --batch reads and queries, whatever the SCAN replies hold', async () => {
    const { cache, source } = items(25, 7);
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { batch: 10 } });
    expect(cache.reads.map((r) => r.length)).toEqual([10, 10, 5]);
    expect(source.loads.map((l) => l.ids)).toEqual([ids(1, 10), ids(11, 20), ids(21, 25)]);
    expect(run.outcome.total.counters()).toMatchObject({ sampled: 25, match: 25 });
  });

  it('holds the first batch to the value-byte budget at --max-value-bytes, then grows once values are measured small', async () => {
    const { cache, source } = items(30);
    const maxValueBytes = 4 * 1024 * 1024;
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { batch: 10, maxValueBytes } });
    // Before any read is measured, each value may be maxValueBytes long: 16 MiB / 4 MiB = 4 keys.
    expect(cache.reads[0]).toHaveLength(BATCH_VALUE_BYTES / maxValueBytes);
    expect(Math.max(...cache.reads.map((r) => r.length))).toBe(10);
    expect(cache.reads.flat().sort()).toEqual(ids(1, 30).map((id) => `item:${id}`).sort());
    expect(run.outcome.total.counters().match).toBe(30);
  });
});

describe('a batch the source fails', () => {
  const failSecondQuery = (timeout: boolean) => (_ids: readonly string[], call: number) => {
    if (call === 2) throw new SourceQueryError(timeout ? 'canceling statement due to statement timeout' : 'relation "items" does not exist', { timeout });
  };

  it('judges its keys error/source-error, counts it as a source failure, and the gate fails on it', async () => {
    const { cache, source } = items(30);
    source.beforeAnswer = failSecondQuery(false);
    const run = await auditFakes({ families: FAMILIES, cache, source });
    for (const id of ids(11, 20)) {
      expect(run.finding(`item:${id}`)).toMatchObject({ verdict: 'error', reason: 'source-error', detail: 'relation "items" does not exist' });
    }
    const counters = run.outcome.total.counters();
    expect(counters).toMatchObject({ sampled: 30, match: 20, error: 10 });
    expect(run.outcome.sourceFailures).toEqual([{ family: 'item', batches: 1, keys: 10, message: 'relation "items" does not exist' }]);
    // An error ratio of 1/3 is tolerated here: the failed batch alone fails the gate.
    const gate = evaluateGate(
      { summary: counters, families: [{ name: 'item', counters }], sourceFailures: run.outcome.sourceFailures },
      { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.5 },
    );
    expect(gate).toMatchObject({ passed: false, tooManyErrors: true });
    expect(gate.failures.join('\n')).toContain('family item: the source query failed for a whole batch (10 keys not judged)');
  });

  it('a batch that times out is error/timeout and not a source failure', async () => {
    const { cache, source } = items(30);
    source.beforeAnswer = failSecondQuery(true);
    const run = await auditFakes({ families: FAMILIES, cache, source });
    expect(run.finding('item:15')).toMatchObject({ verdict: 'error', reason: 'timeout' });
    expect(run.outcome.total.counters().byReason.timeout).toBe(10);
    expect(run.outcome.sourceFailures).toEqual([]);
  });
});

describe('--concurrency', () => {
  it.each([1, 3])('never runs more than %i queries at once, and reaches it', async (concurrency) => {
    const { cache, source } = items(60);
    source.beforeAnswer = () => turns(5);
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { batch: 5, concurrency } });
    expect(source.maxInFlight).toBe(concurrency);
    expect(source.loads).toHaveLength(12);
    expect(run.outcome.total.counters().match).toBe(60);
  });
});

describe('--sample N', () => {
  const sampleRun = async (sample: number | 'all', seed: number) => {
    const { cache, source } = items(200, 50);
    const run = await auditFakes({ families: FAMILIES, cache, source, options: { sample, seed, batch: 10 } });
    return { run, cache, source };
  };

  it('scans the whole keyspace and judges exactly N distinct keys, in --batch reads', async () => {
    const { run, cache, source } = await sampleRun(15, 7);
    expect(cache.scanCalls).toBe(4);
    expect(cache.reads.map((r) => r.length)).toEqual([10, 5]);
    const loaded = source.loads.flatMap((l) => l.ids);
    expect(new Set(loaded).size).toBe(15);
    expect(loaded.every((id) => Number(id) >= 1 && Number(id) <= 200)).toBe(true);
    expect(run.findings).toHaveLength(15);
    expect(run.outcome.total.counters()).toMatchObject({ sampled: 15, judged: 15, match: 15 });
  });

  it('picks the same keys for the same --seed and others for another', async () => {
    const keysOf = async (seed: number) => (await sampleRun(15, seed)).run.findings.map((f) => f.key).sort();
    expect(await keysOf(7)).toEqual(await keysOf(7));
    expect(await keysOf(8)).not.toEqual(await keysOf(7));
  });

  it('a sample larger than the keyspace judges every key once', async () => {
    const { run } = await sampleRun(500, 7);
    expect(new Set(run.findings.map((f) => f.key)).size).toBe(200);
    expect(run.outcome.total.counters().sampled).toBe(200);
  });
});
