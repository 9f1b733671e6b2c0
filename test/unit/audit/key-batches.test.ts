import { describe, expect, it } from 'vitest';
import { keyBatches, type KeyBatchOptions, type KeyRef } from '../../../src/audit/key-batches.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { FakeCache, familiesOf, json } from './fakes/pipeline.js';

// keyBatches alone: which keys a family's SCAN yields, in which batches, and what it counts as
// unmatched or draws from --rate.
const [ITEM, ITEM_NOTE] = familiesOf(`
  - name: item
    pattern: "item:{id}"
    source: main
    table: items
    key: id
    ttl: 300s
  - name: item-note
    pattern: "item:{id}:note"
    source: main
    table: notes
    key: id
    ttl: 300s
`) as [FamilyRule, FamilyRule];

const OPTIONS: KeyBatchOptions = { sample: 'all', seed: 1, batch: 3, scanCount: 100 };

async function collect(rule: FamilyRule, cache: FakeCache, options: Partial<KeyBatchOptions> = {}, taken: number[] = []) {
  let unmatched = 0;
  const batches: KeyRef[][] = [];
  const ctx = {
    cache,
    families: [ITEM, ITEM_NOTE],
    throttle: { take: async (keys: number) => void taken.push(keys) },
    onUnmatched: () => void unmatched++,
    isStopped: () => false,
  };
  for await (const batch of keyBatches(rule, ctx, { ...OPTIONS, ...options })) batches.push(batch);
  return { batches, unmatched };
}

const entry = json({}, 1000);

describe('keyBatches', () => {
  it('yields --batch keys at a time with the id each key captures, across SCAN replies', async () => {
    const cache = new FakeCache(['item:1', 'item:2', 'item:3', 'item:4', 'item:5'].map((k) => [k, entry]), 2);
    const { batches } = await collect(ITEM, cache);
    expect(batches.map((b) => b.map((r) => r.id))).toEqual([['1', '2', '3'], ['4', '5']]);
    expect(batches[0]?.[0]).toEqual({ raw: Buffer.from('item:1'), key: 'item:1', id: '1' });
  });

  it("leaves a key another family claims to that family, and counts a key nobody claims once, on the first family whose glob returns it", async () => {
    // item:* returns every key below; item:*:note returns the last two.
    const cache = new FakeCache(['item:1', 'item:1:note', 'item:1:tag', 'item:1:2:note'].map((k) => [k, entry]));
    const items = await collect(ITEM, cache);
    expect(items.batches.flat().map((r) => r.key)).toEqual(['item:1']);
    expect(items.unmatched).toBe(2);
    const notes = await collect(ITEM_NOTE, cache);
    expect(notes.batches.flat().map((r) => r.key)).toEqual(['item:1:note']);
    // item:1:2:note was already counted by item, earlier in the rules.
    expect(notes.unmatched).toBe(0);
  });

  it('draws one unit of --rate per SCAN call and one per key returned', async () => {
    const cache = new FakeCache(['item:1', 'item:2', 'item:3'].map((k) => [k, entry]), 2);
    const taken: number[] = [];
    await collect(ITEM, cache, {}, taken);
    expect(taken).toEqual([1, 2, 1, 1]);
  });

  it('--shard i/N: the shards yield disjoint keys that together are every key', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `item:${i}`);
    const cache = new FakeCache(keys.map((k) => [k, entry]));
    const shards = await Promise.all([0, 1, 2].map(async (index) => (await collect(ITEM, cache, { shard: { index, count: 3 } })).batches.flat().map((r) => r.key)));
    expect(shards.every((s) => s.length > 0 && s.length < 40)).toBe(true);
    expect(shards.flat().sort()).toEqual([...keys].sort());
  });

  it('--shard i/N on a reader that restricts itself (a Cluster): asks it once, before the scan, and keeps the keys its predicate owns', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `item:${i}`);
    const cache = new FakeCache(keys.map((k) => [k, entry]));
    const asked: { index: number; count: number }[] = [];
    const restricting = Object.assign(cache, {
      restrictToShard: (shard: { index: number; count: number }) => {
        asked.push(shard);
        return (raw: Buffer) => Number(raw.toString().slice('item:'.length)) % 2 === 0;
      },
    });
    const kept = (await collect(ITEM, restricting, { shard: { index: 1, count: 5 } })).batches.flat().map((r) => r.key);
    expect(asked).toEqual([{ index: 1, count: 5 }]);
    expect(kept.sort()).toEqual(['item:0', 'item:2', 'item:4', 'item:6', 'item:8']);
  });
});
