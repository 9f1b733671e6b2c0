import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoPlan } from '../../../src/demo/plan.js';
import { seedDemo } from '../../../src/demo/seed.js';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { MYSQL_URL, PG_URL } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// This file owns logical database 10 of a private redis-server and a throwaway schema/database named sc_<hex>.
const REDIS_DB = 10;
const schema = `sc_${randomBytes(5).toString('hex')}`;
let db: TestDb;

// One key per divergent reason of the demo plan, and the step that must decide it.
const CASES: [key: string, reason: string, step: number, decisive: RegExp][] = [
  ['demo:user:2001', 'orphan', 3, /^ {4}3\. row absent; no expiry/m],
  ['demo:user:1821', 'cache-ahead', 5, /^ {4}5\. cache version \d+ > source version \d+/m],
  ['demo:user:1823', 'payload-drift', 5, /^ {4}5\. versions equal/m],
  ['demo:user:1816', 'no-ttl', 6, /^ {4}6\. no expiry \(PTTL -1\)/m],
  ['demo:user:1819', 'ttl-exceeds-declared', 6, /^ {4}6\. pttl \d+ ms > ttl 300000 ms \+ skew 1000 ms/m],
  ['demo:user:1801', 'stale-repopulated', 7, /^ {4}7\. estimated write .* is after the row changed/m],
  ['demo:product:SKU-0961', 'stale-beyond-budget', 7, /^ {4}7\. .*stale window \d+ ms > maxStaleness 120000 ms/m],
];

const env = () => ({ SHADOWCHECK_DEMO_SCHEMA: schema });

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep(['demo:', 'shadowcheck-demo:']);
  await seedDemo(buildDemoPlan(), { redisUrl: db.url, postgresUrl: PG_URL, mysqlUrl: MYSQL_URL, schema });
});

afterAll(async () => {
  await db?.sweep(['demo:', 'shadowcheck-demo:']);
  await db?.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const my = await mysql.createConnection({ uri: MYSQL_URL });
  await my.query(`DROP DATABASE IF EXISTS ${schema}`);
  await my.end();
});

describe('shadowcheck explain', () => {
  it.each(CASES)('%s: prints the step that decided %s, with its numbers, and a likely cause', async (key, reason, step, decisive) => {
    const result = await runCli(['explain', '--rules', 'rules/demo.yaml', '--redis', db.url, key], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`verdict: divergent/${reason} (decided at step ${step})`);
    expect(result.stdout).toMatch(decisive);
    expect(result.stdout).toMatch(/^ {2}likely cause: .{20,}/m);
    // Steps after the deciding one are not evaluated.
    expect(result.stdout).not.toMatch(new RegExp(`^ {4}${step + 1}\\. `, 'm'));
  });

  it('shows the raw value, payloads with redaction, the diff and the estimated write time', async () => {
    const result = await runCli(['explain', '--rules', 'rules/demo.yaml', '--redis', db.url, 'demo:user:1801'], env());
    expect(result.stdout).toMatch(/cache: type string, \d+ bytes, PTTL \d+ ms/);
    expect(result.stdout).toMatch(/estimated write time: \d{4}-\d\d-\d\dT/);
    expect(result.stdout).toContain('"email":"***"');
    expect(result.stdout).not.toContain('user1801@example.com');
    expect(result.stdout).toMatch(/^ {4}plan: "\w+" → "\w+"$/m);
  });

  it('says why a key matches no family', async () => {
    const result = await runCli(['explain', '--rules', 'rules/demo.yaml', '--redis', db.url, 'demo:user:1:sessions'], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('family: none');
    expect(result.stdout).toContain('tried user-profile: demo:user:{id}');
  });

  it('sends no write: the explained keys keep their values and expiries', async () => {
    const keys = CASES.map((c) => c[0]);
    const snapshot = async () => Promise.all(keys.map(async (k) => [await db.redis.dumpBuffer(k), await db.redis.pttl(k)] as const));
    const before = await snapshot();
    const size = await db.redis.dbsize();
    await runCli(['explain', '--rules', 'rules/demo.yaml', '--redis', db.url, ...keys], env());
    const after = await snapshot();
    expect(await db.redis.dbsize()).toBe(size);
    after.forEach(([value, pttl], i) => {
      const [valueBefore, pttlBefore] = before[i] as (typeof before)[number];
      expect(value?.equals(valueBefore as Buffer)).toBe(true);
      // An expiry only counts down: a write would have reset or removed it.
      expect(pttl === -1 ? pttlBefore === -1 : pttl <= pttlBefore && pttl > 0).toBe(true);
    });
  });

  it('fails with exit 3 and no stack trace when Redis is unreachable', async () => {
    const result = await runCli(['explain', '--rules', 'rules/demo.yaml', '--redis', 'redis://127.0.0.1:1/0', 'demo:user:1'], env());
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});
