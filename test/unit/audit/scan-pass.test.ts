import { describe, expect, it } from 'vitest';
import { commonPrefixGlob, ScanPass, type ScanPassOptions } from '../../../src/audit/sampling/scan-pass.js';
import type { KeyRef } from '../../../src/audit/key-ref.js';
import { FakeCache, familiesOf, ITEM_FAMILY_YAML, json } from './fakes/pipeline.js';

// The one SCAN pass that serves every scanning family: which keys each family gets, what is
// unmatched, how many SCAN calls it takes, and that --all keeps memory bounded.
const FAMILIES = familiesOf(`${ITEM_FAMILY_YAML}  - name: note
    pattern: "note:{id}"
    source: main
    table: notes
    key: id
    fields: [v]
    ttl: 300s
`);
const [ITEM, NOTE] = FAMILIES as [(typeof FAMILIES)[0], (typeof FAMILIES)[0]];
const entry = json({ v: 1 }, 1000);

/** 40 item keys, 20 note keys, 10 keys no family claims, interleaved as a SCAN would return them. */
function keyspace(page = 10): FakeCache {
  const keys: string[] = [];
  for (let i = 1; i <= 40; i++) {
    keys.push(`item:${i}`);
    if (i % 2 === 0) keys.push(`note:${i / 2}`);
    if (i % 4 === 0) keys.push(i % 8 === 0 ? `session:${i}` : `tmp:x`.replace('x', String(i)));
  }
  return new FakeCache(keys.map((k) => [k, entry]), page);
}

function passOver(cache: FakeCache, options: Partial<ScanPassOptions> = {}, owns?: (raw: Buffer) => boolean) {
  const unmatched: string[] = [];
  const taken: number[] = [];
  const pass = new ScanPass(
    FAMILIES,
    {
      cache,
      families: FAMILIES,
      throttle: { take: async (n) => void taken.push(n) },
      onUnmatched: (key) => void unmatched.push(key),
      isStopped: () => false,
      ...(owns === undefined ? {} : { owns }),
    },
    { sample: 'all', seed: 7, batch: 5, scanCount: 100, ...options },
  );
  return { pass, unmatched, taken };
}

async function collect(batches: AsyncIterable<KeyRef[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of batches) keys.push(...batch.map((r) => r.key));
  return keys;
}

describe('ScanPass', () => {
  it('one pass gives each family exactly its keys and counts every unclaimed key once', async () => {
    const cache = keyspace();
    const { pass, unmatched } = passOver(cache);
    const [items, notes] = await Promise.all([collect(pass.draw(ITEM).batches), collect(pass.draw(NOTE).batches)]);
    expect(items).toEqual(Array.from({ length: 40 }, (_, i) => `item:${i + 1}`));
    expect(notes).toEqual(Array.from({ length: 20 }, (_, i) => `note:${i + 1}`));
    expect(unmatched.sort()).toEqual(['session:16', 'session:24', 'session:32', 'session:40', 'session:8', 'tmp:12', 'tmp:20', 'tmp:28', 'tmp:36', 'tmp:4']);
    // 70 keys in replies of 10: seven SCAN calls for both families together.
    expect(cache.scanCalls).toBe(7);
    expect(pass.complete).toBe(true);
    expect(pass.draw(ITEM).report()).toMatchObject({ method: 'all', examined: 70, redisCalls: 7, why: 'one SCAN pass shared by 2 families' });
  });

  it('takes one unit of --rate per SCAN call and one per key returned', async () => {
    const cache = keyspace(35);
    const { pass, taken } = passOver(cache);
    await Promise.all([collect(pass.draw(ITEM).batches), collect(pass.draw(NOTE).batches)]);
    expect(taken).toEqual([1, 35, 1, 35]);
  });

  it('with a sample, each family gets a seeded uniform sample of its own keys, the same for the same seed', async () => {
    const draw = async (seed: number) => {
      const { pass } = passOver(keyspace(), { sample: 6, seed });
      return { items: await collect(pass.draw(ITEM).batches), notes: await collect(pass.draw(NOTE).batches), pass };
    };
    const first = await draw(3);
    const again = await draw(3);
    const other = await draw(4);
    expect(first.items).toHaveLength(6);
    expect(first.notes).toHaveLength(6);
    expect(first.items.every((k) => k.startsWith('item:'))).toBe(true);
    expect(first.notes.every((k) => k.startsWith('note:'))).toBe(true);
    expect(again.items).toEqual(first.items);
    expect(again.notes).toEqual(first.notes);
    expect(other.items).not.toEqual(first.items);
    expect(first.pass.draw(ITEM).report().method).toBe('scan');
  });

  it('--all waits for a family that is not reading: the scan stays a few batches ahead', async () => {
    const cache = keyspace(5);
    const { pass } = passOver(cache, { queuedBatches: 2 });
    const notes = collect(pass.draw(NOTE).batches);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    // Nobody reads item: its two queued batches (10 of its keys) stop the scan long before its 14 calls.
    expect(cache.scanCalls).toBeLessThan(6);
    // Once item reads too, the pass completes for both.
    const [items, noteKeys] = await Promise.all([collect(pass.draw(ITEM).batches), notes]);
    expect(items).toHaveLength(40);
    expect(noteKeys).toHaveLength(20);
    expect(cache.scanCalls).toBe(14);
  });

  it('a family that stops reading no longer holds the pass back', async () => {
    const cache = keyspace(5);
    const { pass } = passOver(cache, { queuedBatches: 1 });
    const notes = pass.draw(NOTE).batches[Symbol.asyncIterator]();
    const items = collect(pass.draw(ITEM).batches);
    expect((await notes.next()).value).toHaveLength(5);
    await notes.return?.();
    expect(await items).toHaveLength(40);
    expect(pass.complete).toBe(true);
  });

  it('--shard: keys this process does not own are neither judged nor unmatched', async () => {
    const owns = (raw: Buffer) => !raw.toString().endsWith('2');
    const { pass, unmatched } = passOver(keyspace(), {}, owns);
    const items = await collect(pass.draw(ITEM).batches);
    await collect(pass.draw(NOTE).batches);
    expect(items).toHaveLength(36);
    expect(items.some((k) => k.endsWith('2'))).toBe(false);
    expect(unmatched).not.toContain('tmp:12');
    expect(unmatched).toHaveLength(8);
  });

  it('MATCHes the families\' common literal prefix, and the whole keyspace when they share none', async () => {
    expect(commonPrefixGlob(['app:user:*', 'app:item:*:x'])).toBe('app:*');
    expect(commonPrefixGlob(['app:user:*'])).toBe('app:user:*');
    expect(commonPrefixGlob(['user:*', 'item:*'])).toBe('*');
    expect(commonPrefixGlob(['a\\*b:*', 'a\\*c:*'])).toBe('a\\**');
    const [ONLY] = familiesOf(`
  - name: item
    pattern: "item:{id}"
    source: main
    table: items
    key: id
    fields: [v]
    ttl: 300s
`);
    const cache = keyspace();
    const pass = new ScanPass([ONLY as (typeof FAMILIES)[0]], { cache, families: FAMILIES, throttle: { take: async () => {} }, onUnmatched: () => {}, isStopped: () => false }, { sample: 'all', seed: 1, batch: 50, scanCount: 100, commonPrefixOnly: true });
    expect(pass.match).toBe('item:*');
    expect(await collect(pass.draw(ONLY as (typeof FAMILIES)[0]).batches)).toHaveLength(40);
    // Only the 40 item keys crossed the network.
    expect(pass.examined).toBe(40);
  });
});
