import { describe, expect, it } from 'vitest';
import type { Shard } from '../../../src/core/shard.js';
import { auditFakes, FakeCache, FakeSource, familiesOf, ITEM_FAMILY_YAML, json } from './fakes/pipeline.js';

// --shard i/N through the whole pipeline: which keys each shard judges, and that a reader able to
// restrict itself (a Cluster) is asked once and its predicate decides.
const FAMILIES = familiesOf(ITEM_FAMILY_YAML);

function items(n: number): { cache: FakeCache; source: FakeSource } {
  const ids = Array.from({ length: n }, (_, i) => String(i + 1));
  const cache = new FakeCache(ids.map((id) => [`item:${id}`, json({ v: Number(id) }, 100_000)]));
  const source = new FakeSource({ item: Object.fromEntries(ids.map((id) => [id, { id: Number(id), v: Number(id) }])) });
  return { cache, source };
}

describe('runAudit --shard', () => {
  it('the shards judge disjoint keys that together are every key, and their counts add up', async () => {
    const judged = await Promise.all(
      [0, 1, 2].map(async (index) => {
        const { cache, source } = items(60);
        const run = await auditFakes({ families: FAMILIES, cache, source, options: { shard: { index, count: 3 } } });
        return run.findings.map((f) => f.key);
      }),
    );
    expect(judged.every((keys) => keys.length > 0 && keys.length < 60)).toBe(true);
    expect(judged.flat().sort()).toEqual(Array.from({ length: 60 }, (_, i) => `item:${i + 1}`).sort());
  });

  it('a reader that restricts itself (a Cluster) is asked once, before the scan, and its predicate decides', async () => {
    const { cache, source } = items(10);
    const asked: Shard[] = [];
    const restricting = Object.assign(cache, {
      restrictToShard: (shard: Shard) => {
        asked.push(shard);
        expect(cache.scanCalls).toBe(0);
        return (raw: Buffer) => Number(raw.toString().slice('item:'.length)) % 2 === 0;
      },
    });
    const run = await auditFakes({ families: FAMILIES, cache: restricting, source, options: { shard: { index: 1, count: 5 } } });
    expect(asked).toEqual([{ index: 1, count: 5 }]);
    expect(run.findings.map((f) => f.key).sort()).toEqual(['item:10', 'item:2', 'item:4', 'item:6', 'item:8']);
  });
});
