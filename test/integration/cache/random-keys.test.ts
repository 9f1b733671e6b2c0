/**
 * randomKeys and exists on the standalone reader (the Sentinel reader is the same class around a
 * resolved client), against a private redis-server: pipelines of at most 1000 RANDOMKEY calls,
 * each announced to beforeCommand, binary-safe names, nothing on an empty database, and EXISTS
 * one boolean per key, in order.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import { ConnectionError } from '../../../src/errors.js';
import { createAclUser, openTestDb, type TestDb } from '../helpers/redis.js';

let seeded: TestDb;
let empty: TestDb;
let reader: CacheReader;
let emptyReader: CacheReader;
const KEYS = 3000;
const binaryKey = Buffer.from([0x72, 0x6b, 0x3a, 0xff, 0xfe, 0x00, 0x41]);

beforeAll(async () => {
  seeded = await openTestDb(5);
  // A second, empty logical database on the same private server.
  empty = await openTestDb(6, seeded.port);
  const pipe = seeded.redis.pipeline();
  for (let i = 0; i < KEYS; i++) pipe.set(`rk:${i}`, String(i));
  pipe.set(binaryKey, 'bin');
  await pipe.exec();
  reader = await createRedisReader(seeded.url, { timeoutMs: 10_000 });
  emptyReader = await createRedisReader(empty.url, { timeoutMs: 10_000 });
}, 30_000);

afterAll(async () => {
  await reader?.close();
  await emptyReader?.close();
  await empty?.close();
  await seeded?.close();
});

async function commandCalls(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

describe('randomKeys', () => {
  it('sends count RANDOMKEY calls in pipelines of at most 1000, announcing each, and returns existing keys as Buffers', async () => {
    const before = await commandCalls(seeded.redis, 'randomkey');
    const announced: number[] = [];
    const keys = await reader.randomKeys!(2500, async (calls) => {
      announced.push(calls);
    });
    expect(announced).toEqual([1000, 1000, 500]);
    expect(await commandCalls(seeded.redis, 'randomkey')).toBe(before + 2500);
    expect(keys).toHaveLength(2500);
    expect(keys.every((k) => Buffer.isBuffer(k))).toBe(true);
    const names = keys.map((k) => k.toString('latin1'));
    const valid = new Set([...Array.from({ length: KEYS }, (_, i) => `rk:${i}`), binaryKey.toString('latin1')]);
    expect(names.filter((n) => !valid.has(n))).toEqual([]);
    // 2500 draws from 3001 keys: repeats happen, but most draws are distinct keys (expected ~1700).
    expect(new Set(names).size).toBeGreaterThan(1200);
    // Spread over the keyspace: every tenth of the numbered keys is drawn.
    // (The binary key also starts with `rk:`: numbered keys only.)
    const tenths = new Set(names.filter((n) => /^rk:\d+$/.test(n)).map((n) => Math.floor(Number(n.slice(3)) / (KEYS / 10))));
    expect(tenths.size).toBe(10);
  });

  // RANDOMKEY is near-uniform, not exact (Redis samples a few neighbouring hash-table buckets), so
  // a chi-square test at a fixed p fails now and then on a correct server (45.1 against 43.82 was
  // seen): the test asks what the sampler needs, that no group is starved or favoured.
  it('draws near-uniformly: 30,000 draws over 20 equal groups of keys put every group within 20% of its share', async () => {
    const counts = new Array<number>(20).fill(0);
    for (const key of await reader.randomKeys!(30_000)) {
      const text = key.toString('latin1');
      if (/^rk:\d+$/.test(text)) counts[Math.floor((Number(text.slice(3)) * 20) / KEYS)]! += 1;
    }
    const total = counts.reduce((a, b) => a + b, 0);
    const expected = total / 20;
    expect(total).toBeGreaterThan(29_000);
    for (const c of counts) expect(Math.abs(c - expected) / expected).toBeLessThan(0.2);
  });

  it('fails as a connection error naming the refusal when the ACL forbids RANDOMKEY', async () => {
    const user = await createAclUser(seeded.redis, 'sc_norandom', ['~*', '+@all', '-@write', '-randomkey']);
    const limited = await createRedisReader(user.url(5), { timeoutMs: 10_000 });
    try {
      const failure = await limited.randomKeys!(5).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConnectionError);
      expect((failure as Error).message).toMatch(/NOPERM/);
      expect(await limited.exists!([Buffer.from('rk:1')])).toEqual([true]);
    } finally {
      await limited.close();
      await user.drop();
    }
  });

  it('returns a binary key name byte for byte', async () => {
    // The binary key is one of 3001: draw until it shows (each 5000-call round finds it with p > 0.8).
    let found: Buffer | undefined;
    for (let round = 0; round < 10 && found === undefined; round++) {
      found = (await reader.randomKeys!(5000)).find((k) => k.length === binaryKey.length && k.equals(binaryKey));
    }
    expect(found).toBeDefined();
    expect(found!.equals(binaryKey)).toBe(true);
  });

  it('returns no key from an empty database, and zero calls asks nothing', async () => {
    const announced: number[] = [];
    expect(await emptyReader.randomKeys!(10, async (calls) => void announced.push(calls))).toEqual([]);
    expect(announced).toEqual([10]);
    expect(await reader.randomKeys!(0, async (calls) => void announced.push(calls))).toEqual([]);
    expect(announced).toEqual([10]);
  });
});

describe('exists', () => {
  it('answers one boolean per key, in order, binary names included, over more than one pipeline', async () => {
    const keys = [Buffer.from('rk:1'), Buffer.from('rk:missing'), binaryKey, Buffer.from('rk:2999'), Buffer.from([0xff, 0x00])];
    expect(await reader.exists!(keys)).toEqual([true, false, true, true, false]);
    const many = Array.from({ length: 2300 }, (_, i) => Buffer.from(`rk:${i * 2}`));
    const found = await reader.exists!(many);
    expect(found).toHaveLength(2300);
    expect(found.map((f, i) => f === (i * 2 < KEYS))).not.toContain(false);
    expect(await reader.exists!([])).toEqual([]);
  });
});
