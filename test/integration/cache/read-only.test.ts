import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforceReadOnly, READ_COMMANDS, WriteCommandRefused } from '../../../src/cache/read-only.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// Logical database 8 of a private redis-server started for this file.
let testDb: TestDb;
let URL: string;
const KEY = 'read-only-test:k';
let guarded: Redis;
let admin: Redis;

beforeAll(async () => {
  testDb = await openTestDb(8);
  URL = testDb.url;
  admin = new Redis(URL);
  await admin.del(KEY);
  await admin.set(KEY, 'original');
  guarded = enforceReadOnly(new Redis(URL));
});

afterAll(async () => {
  await admin.del(KEY);
  guarded.disconnect();
  admin.disconnect();
  await testDb?.close();
});

const commandCalls = async (name: string) => {
  const info = await admin.info('commandstats');
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
};

describe('enforceReadOnly', () => {
  it('lets read commands through', async () => {
    expect(await guarded.get(KEY)).toBe('original');
    expect(await guarded.pttl(KEY)).toBe(-1);
  });

  it.each([
    ['set', (r: Redis) => r.set(KEY, 'changed')],
    ['del', (r: Redis) => r.del(KEY)],
    ['expire', (r: Redis) => r.expire(KEY, 1)],
    ['flushdb', (r: Redis) => r.flushdb()],
    ['eval', (r: Redis) => r.eval("return redis.call('SET', KEYS[1], 'x')", 1, KEY)],
  ])('refuses %s before it reaches the server', async (name, write) => {
    const before = await commandCalls(name);
    await expect(write(guarded)).rejects.toBeInstanceOf(WriteCommandRefused);
    expect(await commandCalls(name)).toBe(before);
    expect(await admin.get(KEY)).toBe('original');
    expect(await admin.pttl(KEY)).toBe(-1);
  });

  it('refuses writes inside a pipeline too, and sends none of them', async () => {
    const before = await commandCalls('set');
    const replies = await guarded.pipeline().get(KEY).set(KEY, 'changed').exec();
    expect(replies?.[0]).toEqual([null, 'original']);
    expect(replies?.[1]?.[0]).toBeInstanceOf(WriteCommandRefused);
    expect(await commandCalls('set')).toBe(before);
    expect(await admin.get(KEY)).toBe('original');
  });

  it('allows no command that writes data', () => {
    const writes = ['set', 'del', 'unlink', 'expire', 'pexpire', 'persist', 'hset', 'eval', 'evalsha', 'flushdb', 'flushall', 'rename', 'restore'];
    const collectionWrites = ['lpush', 'rpush', 'lpop', 'rpop', 'lmove', 'lset', 'ltrim', 'sadd', 'srem', 'spop', 'smove', 'zadd', 'zrem', 'zincrby', 'zpopmin', 'zrangestore', 'sort'];
    for (const write of [...writes, ...collectionWrites]) {
      expect(READ_COMMANDS.has(write)).toBe(false);
    }
  });

  it('allows no command that Redis itself flags as a write', async () => {
    const infos = (await admin.call('COMMAND', 'INFO', ...READ_COMMANDS)) as ([string, number, string[]] | null)[];
    const flagged = infos.filter((info) => info !== null && info[2].includes('write')).map((info) => info?.[0]);
    expect(infos.filter((info) => info !== null).length).toBeGreaterThan(20);
    expect(flagged).toEqual([]);
  });
});
