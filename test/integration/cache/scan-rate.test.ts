import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanPass } from '../../../src/audit/sampling/scan-pass.js';
import { createThrottle, type Throttle } from '../../../src/audit/throttle.js';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import { compilePattern } from '../../../src/config/index.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

// --rate counts every command sent: a SCAN call that returns no key of the family still takes its
// turn, so a keyspace where the family matches nothing is not scanned at full speed. The pass
// MATCHes the family's prefix (as a --family run does), so that every reply here is empty.

let server: RedisServer;
let admin: Redis;
let reader: CacheReader;
const rule = { name: 'users', type: 'string', pattern: compilePattern('user:{id}') } as unknown as FamilyRule;

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.port, REDIS_HOST);
  const pipe = admin.pipeline();
  for (let i = 0; i < 20_000; i++) pipe.set(`other:${i}`, 'x');
  await pipe.exec();
  reader = await createRedisReader(`redis://${REDIS_HOST}:${server.port}/0`, { timeoutMs: 5000 });
});

afterAll(async () => {
  await reader.close();
  admin.disconnect();
  await server.kill();
});

async function scanCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/^cmdstat_scan:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

async function drain(throttle: Throttle): Promise<number> {
  let batches = 0;
  const ctx = { cache: reader, families: [rule], throttle, onUnmatched: () => {}, isStopped: () => false };
  const pass = new ScanPass([rule], ctx, { sample: 'all', seed: 1, batch: 100, scanCount: 100, commonPrefixOnly: true });
  for await (const batch of pass.draw(rule).batches) batches += batch.length;
  return batches;
}

describe('--rate limits SCAN', () => {
  it('every SCAN call takes from the rate before it is sent, also one that matches nothing', async () => {
    let taken = 0;
    let sentBeforeTake = 0;
    const before = await scanCalls();
    const counting: Throttle = {
      take: async (n) => {
        // The server has seen exactly as many SCANs as were paid for, never one more.
        if ((await scanCalls()) - before > taken) sentBeforeTake++;
        taken += n;
      },
    };
    expect(await drain(counting)).toBe(0);
    const calls = (await scanCalls()) - before;
    expect(calls).toBeGreaterThan(100);
    expect(taken).toBeGreaterThanOrEqual(calls);
    expect(sentBeforeTake).toBe(0);
  });

  it('--rate 100 makes ~200 empty SCAN calls last seconds, not milliseconds', async () => {
    const before = await scanCalls();
    const started = Date.now();
    await drain(createThrottle(100));
    const calls = (await scanCalls()) - before;
    // A bucket of one second's worth starts full: the calls past the first 100 wait their turn.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((calls - 100) / 100) * 1000 - 100);
    expect(calls).toBeGreaterThan(150);
  });
});
