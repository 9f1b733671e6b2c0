import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import type { CacheRead } from '../../../src/core/observation.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// Logical database 8 of a private redis-server started for this file.
let testDb: TestDb;
let URL: string;
const P = 'reader-test:';
const LIMIT = 64 * 1024;

let admin: Redis;
const readers: Record<'script' | 'pipeline', CacheReader | undefined> = { script: undefined, pipeline: undefined };

const key = (name: string) => Buffer.from(`${P}${name}`);
const binaryKey = Buffer.concat([Buffer.from(P), Buffer.from([0xff, 0xfe, 0x00, 0x41])]);

beforeAll(async () => {
  testDb = await openTestDb(8);
  URL = testDb.url;
  admin = new Redis(URL);
  await cleanup();
  await admin.set(`${P}small`, '{"a":1}', 'EX', 300);
  await admin.set(`${P}forever`, 'x');
  await admin.set(`${P}mid`, 'm'.repeat(20_000), 'EX', 300); // over the inline limit, under LIMIT
  await admin.set(`${P}big`, 'b'.repeat(LIMIT + 1));
  await admin.rpush(`${P}list`, 'a', 'b');
  await admin.hset(`${P}hash`, { name: 'Ada', plan: 'pro' });
  await admin.hset(`${P}widehash`, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, String(i)])));
  await admin.hset(`${P}hugehash`, Object.fromEntries(Array.from({ length: LIMIT / 64 + 1 }, (_, i) => [`f${i}`, 'v'])));
  await admin.set(binaryKey, 'bin', 'EX', 300);
  readers.script = await createRedisReader(URL, { timeoutMs: 5000 });
  readers.pipeline = await createRedisReader(URL, { timeoutMs: 5000, readScript: false });
});

afterAll(async () => {
  await readers.script?.close();
  await readers.pipeline?.close();
  await cleanup();
  admin.disconnect();
  await testDb?.close();
});

async function cleanup() {
  for await (const keys of admin.scanBufferStream({ match: `${P}*`, count: 100 }) as AsyncIterable<Buffer[]>) {
    if (keys.length > 0) await admin.del(...keys);
  }
}

const summarize = (r: CacheRead) =>
  r.kind === 'present'
    ? { kind: r.kind, type: r.redisType, pttlPositive: r.pttlMs > 0, pttl: r.pttlMs > 0 ? 'set' : r.pttlMs, size: Buffer.isBuffer(r.value) ? r.value.length : Object.keys(r.value).length }
    : r;

describe.each(['script', 'pipeline'] as const)('Redis reader (%s path)', (path) => {
  const reader = () => readers[path] as CacheReader;

  it('reads strings with their PTTL, whatever their size under the limit', async () => {
    const [small, forever, mid] = await reader().read([key('small'), key('forever'), key('mid')], 'string', LIMIT);
    expect(small).toMatchObject({ kind: 'present', redisType: 'string' });
    expect((small as { value: Buffer }).value.toString()).toBe('{"a":1}');
    expect((small as { pttlMs: number }).pttlMs).toBeGreaterThan(290_000);
    expect(forever).toMatchObject({ kind: 'present', pttlMs: -1 });
    expect((mid as { value: Buffer }).value.length).toBe(20_000);
  });

  it('reports a value over the limit as too-large with its size, without fetching it', async () => {
    const [big] = await reader().read([key('big')], 'string', LIMIT);
    expect(big).toEqual({ kind: 'too-large', redisType: 'string', size: LIMIT + 1, unit: 'bytes' });
  });

  it('reports a missing key as gone and another type as present with that type', async () => {
    const [missing, list] = await reader().read([key('missing'), key('list')], 'string', LIMIT);
    expect(missing).toEqual({ kind: 'gone' });
    expect(list).toMatchObject({ kind: 'present', redisType: 'list' });
  });

  it('reads hashes as field maps, wide ones too, and refuses hashes over the field limit', async () => {
    const [hash, wide, huge, str] = await reader().read([key('hash'), key('widehash'), key('hugehash'), key('small')], 'hash', LIMIT);
    expect(hash).toMatchObject({ kind: 'present', redisType: 'hash', pttlMs: -1 });
    const fields = (hash as { value: Record<string, Buffer> }).value;
    expect(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.toString()]))).toEqual({ name: 'Ada', plan: 'pro' });
    expect(Object.keys((wide as { value: Record<string, Buffer> }).value)).toHaveLength(300);
    expect(huge).toMatchObject({ kind: 'too-large', redisType: 'hash', size: LIMIT / 64 + 1, unit: 'fields' });
    expect(str).toMatchObject({ kind: 'present', redisType: 'string' });
  });

  it('handles binary key names', async () => {
    const [bin] = await reader().read([binaryKey], 'string', LIMIT);
    expect((bin as { value: Buffer }).value.toString()).toBe('bin');
  });

  it('scans with MATCH, binary-safe', async () => {
    const seen: Buffer[] = [];
    for await (const keys of reader().scan(`${P}*`, 100)) seen.push(...keys);
    expect(seen.some((k) => k.equals(binaryKey))).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(9);
  });
});

describe('Redis reader paths agree', () => {
  it('gives the same reads through the script and through pipelines', async () => {
    const all = ['small', 'forever', 'mid', 'big', 'missing', 'list', 'hash'].map(key);
    for (const type of ['string', 'hash'] as const) {
      const viaScript = (await (readers.script as CacheReader).read(all, type, LIMIT)).map(summarize);
      const viaPipeline = (await (readers.pipeline as CacheReader).read(all, type, LIMIT)).map(summarize);
      expect(viaScript).toEqual(viaPipeline);
    }
  });
});
