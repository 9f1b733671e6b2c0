import { describe, expect, it } from 'vitest';
import { randomDraw } from '../../../../src/audit/sampling/random-draw.js';
import type { KeyRef } from '../../../../src/audit/key-ref.js';
import { FakeKeyspace, recordingThrottle, rule } from './fakes.js';

const users = rule('user', 'user:{id}');

/** 1000 user keys (10%) among 9000 others. */
function keyspace(): FakeKeyspace {
  const keys: string[] = [];
  for (let i = 0; i < 10_000; i++) keys.push(i % 10 === 0 ? `user:${i}` : `session:${i}`);
  return new FakeKeyspace(keys);
}

async function collect(batches: AsyncIterable<KeyRef[]>): Promise<KeyRef[][]> {
  const out: KeyRef[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

describe('randomDraw', () => {
  it('keeps distinct keys of the family until the sample is reached, in batches, and reports replies and calls', async () => {
    const cache = keyspace();
    const throttle = recordingThrottle();
    const draw = randomDraw(users, { cache, throttle, isStopped: () => false }, { sample: 250, batch: 100, maxCalls: 100_000 });
    const batches = await collect(draw.batches);
    const keys = batches.flat();
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(keys).toHaveLength(250);
    expect(new Set(keys.map((k) => k.key)).size).toBe(250);
    for (const ref of keys) {
      expect(ref.key).toMatch(/^user:\d+$/);
      expect(ref.id).toBe(ref.key.slice('user:'.length));
      expect(ref.raw.toString()).toBe(ref.key);
    }
    const report = draw.report();
    const calls = cache.pipelines.reduce((a, b) => a + b, 0);
    expect(report).toMatchObject({ method: 'random', redisCalls: calls, examined: calls });
    expect(report.bias).toMatch(/near-uniform/);
    expect(report.bias).toMatch(/--seed cannot reproduce/);
    // About sample / share = 2500 calls; pipelines of the batch size, each throttled for its calls.
    expect(calls).toBeGreaterThan(2000);
    expect(calls).toBeLessThan(4000);
    expect(cache.pipelines.every((n) => n === 100)).toBe(true);
    expect(throttle.taken).toEqual(cache.pipelines);
  });

  it('is lazy: a consumer that stops after the first batch sends no more pipelines', async () => {
    const cache = keyspace();
    const draw = randomDraw(users, { cache, throttle: recordingThrottle(), isStopped: () => false }, { sample: 1000, batch: 50, maxCalls: 100_000 });
    expect(cache.pipelines).toEqual([]);
    for await (const batch of draw.batches) {
      expect(batch).toHaveLength(50);
      break;
    }
    const sent = cache.pipelines.length;
    // 50 family keys need ~500 calls at a 10% share: about ten pipelines of 50, not the ~200 of the whole sample.
    expect(sent).toBeLessThan(30);
    expect(draw.report().redisCalls).toBe(sent * 50);
  });

  it('stops at maxCalls with fewer keys than the sample for a rare family', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => (i % 1000 === 0 ? `user:${i}` : `other:${i}`));
    const cache = new FakeKeyspace(keys);
    const draw = randomDraw(users, { cache, throttle: recordingThrottle(), isStopped: () => false }, { sample: 100, batch: 300, maxCalls: 1000 });
    const got = (await collect(draw.batches)).flat();
    expect(cache.pipelines).toEqual([300, 300, 300, 100]);
    expect(draw.report().redisCalls).toBe(1000);
    expect(got.length).toBeLessThan(11);
    expect(got.every((k) => k.key.startsWith('user:'))).toBe(true);
    // The gate judged only these keys: the report must say the sample is short, and why.
    expect(draw.report().short).toEqual({ asked: 100, drawn: got.length, because: expect.stringContaining('1000 RANDOMKEY calls') as unknown });
  });

  it('reports no shortfall when the sample was reached', async () => {
    const draw = randomDraw(users, { cache: keyspace(), throttle: recordingThrottle(), isStopped: () => false }, { sample: 50, batch: 100, maxCalls: 100_000 });
    expect((await collect(draw.batches)).flat()).toHaveLength(50);
    expect(draw.report().short).toBeUndefined();
  });

  it('keeps only the keys this shard owns', async () => {
    const cache = keyspace();
    const owns = (raw: Buffer) => Number(raw.toString().split(':')[1]) % 20 === 0;
    const draw = randomDraw(users, { cache, throttle: recordingThrottle(), owns, isStopped: () => false }, { sample: 100, batch: 100, maxCalls: 100_000 });
    const got = (await collect(draw.batches)).flat();
    expect(got).toHaveLength(100);
    expect(got.every((k) => Number(k.id) % 20 === 0)).toBe(true);
  });

  it('gives up after one pipeline on an empty database, and stops when the run stops', async () => {
    const empty = new FakeKeyspace([]);
    const none = randomDraw(users, { cache: empty, throttle: recordingThrottle(), isStopped: () => false }, { sample: 10, batch: 100, maxCalls: 100_000 });
    expect(await collect(none.batches)).toEqual([]);
    expect(empty.pipelines).toEqual([100]);
    expect(none.report()).toMatchObject({ examined: 0, redisCalls: 100 });

    const cache = keyspace();
    let stopped = false;
    const draw = randomDraw(users, { cache, throttle: recordingThrottle(), isStopped: () => stopped }, { sample: 1000, batch: 100, maxCalls: 100_000 });
    const seen: number[] = [];
    for await (const batch of draw.batches) {
      seen.push(batch.length);
      stopped = true;
    }
    // The first batch, then the partial one gathered before the stop was seen: no pipeline after it.
    expect(seen[0]).toBe(100);
    expect(seen.length).toBeLessThanOrEqual(2);
    const calls = cache.pipelines.length;
    expect(draw.report().redisCalls).toBe(calls * 100);
  });

  it('tells binary key names apart by their bytes and drops repeats', async () => {
    const a = Buffer.from([0x75, 0x73, 0x65, 0x72, 0x3a, 0xff, 0x01]);
    const b = Buffer.from([0x75, 0x73, 0x65, 0x72, 0x3a, 0xff, 0x02]);
    const cache = new FakeKeyspace([a, b, 'user:x']);
    const draw = randomDraw(users, { cache, throttle: recordingThrottle(), isStopped: () => false }, { sample: 10, batch: 50, maxCalls: 500 });
    const got = (await collect(draw.batches)).flat();
    expect(got).toHaveLength(3);
    expect(got.filter((k) => k.raw.equals(a))).toHaveLength(1);
    expect(got.filter((k) => k.raw.equals(b))).toHaveLength(1);
    expect(draw.report().examined).toBe(500);
  });

  it('fails plainly when the reader cannot draw random keys', async () => {
    const cache = keyspace();
    const reader = { target: cache.target, scan: cache.scan.bind(cache), read: cache.read.bind(cache), size: cache.size.bind(cache), close: cache.close.bind(cache) };
    const draw = randomDraw(users, { cache: reader, throttle: recordingThrottle(), isStopped: () => false }, { sample: 10, batch: 10, maxCalls: 100 });
    await expect(collect(draw.batches)).rejects.toThrow(/cannot draw random keys/);
  });
});
