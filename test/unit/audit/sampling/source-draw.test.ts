import { describe, expect, it } from 'vitest';
import type { KeyRef } from '../../../../src/audit/key-ref.js';
import { sourceDraw } from '../../../../src/audit/sampling/source-draw.js';
import { FakeKeyspace, FakeTable, recordingThrottle, rule } from './fakes.js';

const users = rule('user', 'user:{id}', 'users');

async function collect(batches: AsyncIterable<KeyRef[]>): Promise<KeyRef[][]> {
  const out: KeyRef[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

/** A cache holding the keys of the rows 1..rows for which `cached(n)` holds. */
function cacheOf(rows: number, cached: (n: number) => boolean): FakeKeyspace {
  return new FakeKeyspace(Array.from({ length: rows }, (_, i) => i + 1).filter(cached).map((n) => `user:${n}`));
}

describe('sourceDraw', () => {
  it('renders sampled rows into keys, yields the cached ones in batches, counts the rest as not cached', async () => {
    const cache = cacheOf(1000, () => true);
    const loader = new FakeTable(1000);
    const throttle = recordingThrottle();
    const draw = sourceDraw(users, { cache, loader, throttle, isStopped: () => false }, { sample: 250, batch: 100, seed: 7 });
    // Nothing is asked before the first batch is.
    expect(loader.requests).toEqual([]);
    const batches = await collect(draw.batches);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    const keys = batches.flat();
    expect(new Set(keys.map((k) => k.key)).size).toBe(250);
    expect(keys.every((k) => k.key === `user:${k.id}` && k.raw.toString() === k.key)).toBe(true);
    expect(loader.requests).toEqual([{ count: 250, seed: 7 }]);
    expect(draw.report()).toEqual({
      method: 'source',
      examined: 250,
      redisCalls: 250,
      notCached: 0,
      bias: 'cannot find orphaned keys (cache entries whose row is gone); fake: a seeded shuffle',
    });
    expect(cache.existsCalls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(throttle.taken).toEqual([100, 100, 50]);
  });

  it('draws more rows when too few are cached, with seeds derived from --seed, and reports the uncached ones', async () => {
    // Half of the rows have a cache entry.
    const cache = cacheOf(10_000, (n) => n % 2 === 0);
    const loader = new FakeTable(10_000);
    const draw = sourceDraw(users, { cache, loader, throttle: recordingThrottle(), isStopped: () => false }, { sample: 200, batch: 100, seed: 3 });
    const keys = (await collect(draw.batches)).flat();
    expect(keys).toHaveLength(200);
    expect(keys.every((k) => Number(k.id) % 2 === 0)).toBe(true);
    expect(loader.requests[0]).toEqual({ count: 200, seed: 3 });
    expect(loader.requests.length).toBeGreaterThan(1);
    expect(loader.requests.slice(1).map((r) => r.seed)).toEqual(loader.requests.slice(1).map((_, i) => 4 + i));
    const report = draw.report();
    expect(report.notCached).toBeGreaterThan(100);
    // Every key checked is either kept or not cached (the last chunk may hold a few more cached ones than the sample needed).
    expect(report.redisCalls).toBeGreaterThanOrEqual(200 + (report.notCached ?? 0));
    expect(report.examined).toBeGreaterThanOrEqual(report.redisCalls);
  });

  it('stops at the table: fewer rows than the sample yields what exists', async () => {
    const cache = cacheOf(30, (n) => n <= 20);
    const loader = new FakeTable(30);
    const draw = sourceDraw(users, { cache, loader, throttle: recordingThrottle(), isStopped: () => false }, { sample: 100, batch: 50, seed: 1 });
    const keys = (await collect(draw.batches)).flat();
    expect(keys.map((k) => Number(k.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(loader.requests).toHaveLength(1);
    expect(draw.report()).toMatchObject({ examined: 30, redisCalls: 30, notCached: 10 });
    expect(draw.report().short).toEqual({ asked: 100, drawn: 20, because: '10 of 30 sampled rows had no cache entry, and the table had no more rows' });
  });

  it('says the sample is short when no sampled row is cached (an empty or evicted cache judges nothing)', async () => {
    const cache = cacheOf(1000, () => false);
    const loader = new FakeTable(1000);
    const draw = sourceDraw(users, { cache, loader, throttle: recordingThrottle(), isStopped: () => false }, { sample: 100, batch: 50, seed: 1 });
    expect((await collect(draw.batches)).flat()).toEqual([]);
    expect(draw.report().short).toEqual({ asked: 100, drawn: 0, because: '100 of 100 sampled rows had no cache entry' });
  });

  it('skips an id whose key its pattern would not claim back, and keys another shard owns', async () => {
    const cache = new FakeKeyspace([...Array.from({ length: 40 }, (_, i) => `user:${i + 1}`), 'user:a:b']);
    const loader = new FakeTable(40, ['a:b']);
    const owns = (raw: Buffer) => Number(raw.toString().slice(5)) % 2 === 1;
    const draw = sourceDraw(users, { cache, loader, throttle: recordingThrottle(), owns, isStopped: () => false }, { sample: 100, batch: 100, seed: 2 });
    const keys = (await collect(draw.batches)).flat();
    expect(keys.map((k) => k.key)).not.toContain('user:a:b');
    expect(keys).toHaveLength(20);
    expect(keys.every((k) => Number(k.id) % 2 === 1)).toBe(true);
    // Neither the unclaimed key nor the other shard's keys were asked about.
    expect(cache.existsCalls.flat()).not.toContain('user:a:b');
    expect(cache.existsCalls.flat().every((k) => Number(k.slice(5)) % 2 === 1)).toBe(true);
    expect(draw.report().examined).toBe(41);
  });

  it('sends no more EXISTS once the run stops, and fails plainly without sampleIds', async () => {
    const cache = cacheOf(5000, () => true);
    let stopped = false;
    const draw = sourceDraw(users, { cache, loader: new FakeTable(5000), throttle: recordingThrottle(), isStopped: () => stopped }, { sample: 1000, batch: 100, seed: 1 });
    for await (const batch of draw.batches) {
      expect(batch).toHaveLength(100);
      stopped = true;
    }
    expect(cache.existsCalls).toHaveLength(1);

    const noSampling = { load: async () => ({ rows: new Map(), nowMs: 0 }), close: async () => {} };
    const failing = sourceDraw(users, { cache, loader: noSampling, throttle: recordingThrottle(), isStopped: () => false }, { sample: 10, batch: 10, seed: 1 });
    await expect(collect(failing.batches)).rejects.toThrow(/cannot draw random rows/);
  });
});
