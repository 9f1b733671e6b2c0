/**
 * The two draws of --sampling random and source against real servers: a private redis-server
 * holding a family at 10% of the keyspace, and a throwaway PostgreSQL schema whose table has more
 * rows than the cache holds. The Redis commands each draw reports are the ones the server counted
 * (INFO commandstats).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRef } from '../../../src/audit/key-ref.js';
import { randomDraw } from '../../../src/audit/sampling/random-draw.js';
import { sourceDraw } from '../../../src/audit/sampling/source-draw.js';
import { createThrottle } from '../../../src/audit/throttle.js';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const USERS = 2000;
const OTHERS = 18_000;
const ROWS = 5000;

let testDb: TestDb;
let reader: CacheReader;
let sandbox: Sandbox;
let loader: SourceLoader;

beforeAll(async () => {
  testDb = await openTestDb(2);
  const pipe = testDb.redis.pipeline();
  for (let i = 1; i <= USERS; i++) pipe.set(`user:${i}`, '{}');
  for (let i = 1; i <= OTHERS; i++) pipe.set(`session:${i}`, '{}');
  await pipe.exec();
  reader = await createRedisReader(testDb.url, { timeoutMs: 10_000 });
  sandbox = await createPgSandbox();
  await sandbox.exec(`CREATE TABLE ${sandbox.name}.users (id int PRIMARY KEY)`);
  await sandbox.exec(`INSERT INTO ${sandbox.name}.users SELECT g FROM generate_series(1, ${ROWS}) g`);
  await sandbox.exec(`ANALYZE ${sandbox.name}.users`);
  loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: sandbox.url }, { timeoutMs: 10_000, maxConnections: 1 });
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await testDb?.close();
  await loader?.close();
  await sandbox?.drop();
});

async function calls(command: string): Promise<number> {
  const stats = await testDb.redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

async function collect(batches: AsyncIterable<KeyRef[]>): Promise<KeyRef[]> {
  const out: KeyRef[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

describe('randomDraw on a real Redis', () => {
  it('draws distinct keys of a 10% family in about sample / share RANDOMKEY calls, as the server counts them', async () => {
    const before = await calls('randomkey');
    const draw = randomDraw(familyRule({ name: 'user' }), { cache: reader, throttle: createThrottle(undefined), isStopped: () => false }, { sample: 300, batch: 100, maxCalls: 100_000 });
    const keys = await collect(draw.batches);
    const report = draw.report();
    expect(keys).toHaveLength(300);
    expect(new Set(keys.map((k) => k.key)).size).toBe(300);
    expect(keys.every((k) => /^user:\d+$/.test(k.key) && Number(k.id) >= 1 && Number(k.id) <= USERS)).toBe(true);
    expect(await calls('randomkey')).toBe(before + report.redisCalls);
    expect(report.examined).toBe(report.redisCalls);
    // ~3000 expected at a 10% share; far below the 20,000 keys a full pass would return.
    expect(report.redisCalls).toBeGreaterThan(1500);
    expect(report.redisCalls).toBeLessThan(6000);
  });
});

describe('sourceDraw on a real PostgreSQL and Redis', () => {
  it('draws rows, keeps those with a cache entry, counts the others, and reports the EXISTS calls the server counted', async () => {
    const before = await calls('exists');
    const rule = familyRule({ name: 'user', table: `${sandbox.name}.users` });
    const draw = sourceDraw(rule, { cache: reader, loader, throttle: createThrottle(undefined), isStopped: () => false }, { sample: 200, batch: 100, seed: 5 });
    const keys = await collect(draw.batches);
    const report = draw.report();
    expect(keys).toHaveLength(200);
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    // Only rows 1..2000 have a cache entry (40% of the table).
    expect(keys.every((k) => Number(k.id) >= 1 && Number(k.id) <= USERS)).toBe(true);
    expect(report.notCached).toBeGreaterThan(100);
    expect(await calls('exists')).toBe(before + report.redisCalls);
    expect(report.bias).toMatch(/^cannot find orphaned keys .*; PostgreSQL/);

    const again = sourceDraw(rule, { cache: reader, loader, throttle: createThrottle(undefined), isStopped: () => false }, { sample: 200, batch: 100, seed: 5 });
    expect((await collect(again.batches)).map((k) => k.key)).toEqual(keys.map((k) => k.key));
  });
});
