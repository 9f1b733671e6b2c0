import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import type { ScoredMember } from '../../../src/core/observation.js';
import { readSamples } from '../../../src/init/sampler.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// init's sampler reads each key as a string first, then each hash, list, set and sorted set again
// as itself, so that proposals see their values. A private redis-server, logical database 4.

let testDb: TestDb;
let reader: CacheReader;

beforeAll(async () => {
  testDb = await openTestDb(4);
  const r = testDb.redis;
  await r.set('s:1', '{"id":1}', 'EX', 300);
  await r.hset('h:1', { id: '1' });
  await r.rpush('l:1', '3', '1', '2');
  await r.expire('l:1', 300);
  await r.sadd('t:1', 'a', 'b');
  await r.zadd('z:1', '2.5', 'p', '-inf', 'q');
  await r.xadd('x:1', '*', 'f', 'v');
  reader = await createRedisReader(testDb.url, { timeoutMs: 5000 });
});

afterAll(async () => {
  await reader?.close();
  await testDb?.sweep(['s:', 'h:', 'l:', 't:', 'z:', 'x:']);
  await testDb?.close();
});

describe('init sampler', () => {
  it('reads strings, hashes, lists, sets and sorted sets with their values; another type keeps only its type', async () => {
    const names = ['s:1', 'h:1', 'l:1', 't:1', 'z:1', 'x:1', 'gone:1'];
    const samples = await readSamples(
      reader,
      names.map((key) => ({ key, id: '1' })),
    );
    expect(samples.map((s) => s.redisType)).toEqual(['string', 'hash', 'list', 'set', 'zset', 'stream', 'gone']);
    const [str, hash, list, set, zset, stream] = samples;
    expect(String(str?.value)).toBe('{"id":1}');
    expect(Object.keys(hash?.value as object)).toEqual(['id']);
    expect((list?.value as Buffer[]).map(String)).toEqual(['3', '1', '2']);
    expect(list?.pttlMs).toBeGreaterThan(0);
    expect((set?.value as Buffer[]).map(String).sort()).toEqual(['a', 'b']);
    expect((zset?.value as ScoredMember[]).map((m) => `${m.member.toString()}=${m.score}`)).toEqual(['q=-inf', 'p=2.5']);
    expect(zset?.pttlMs).toBe(-1);
    expect(stream?.value).toBeUndefined();
  });
});
