/**
 * The whole demo plan through the built CLI: every planted key gets exactly the verdict and reason
 * the plan says, key by key; the summary's counters are the ones the plan implies; the gate fails
 * (exit 1); and the audit writes nothing, to Redis or to either database.
 *
 * Isolation: logical database 3 of a private redis-server, a throwaway `sc_<hex>` PostgreSQL schema and MariaDB
 * database (seedDemo creates both under that name), all removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoPlan, type DemoPlan } from '../../../src/demo/plan.js';
import { seedDemo } from '../../../src/demo/seed.js';
import { REASONS, REASONS_BY_VERDICT, VERDICTS, type Reason, type Verdict } from '../../../src/core/verdict.js';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { label, parseNdjson, type NdjsonReport } from '../helpers/audit-cli.js';
import { DEMO_FAMILIES } from '../helpers/demo-families.js';
import { MYSQL_URL, PG_URL } from '../helpers/db.js';
import { createAclUser, openTestDb, type AclUser, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 3;
const OWNER_KEY = 'shadowcheck-demo:owner';

/** The reasons SEMANTICS.md lists, by verdict, spelled as the document spells them. */
const SEMANTICS_REASONS: Record<Verdict, readonly string[]> = {
  match: [],
  'within-ttl': ['ttl-bounded', 'ttl-bounded-assumed', 'converged'],
  divergent: ['no-ttl', 'stale-beyond-budget', 'stale-repopulated', 'ttl-exceeds-declared', 'cache-ahead', 'payload-drift', 'orphan'],
  error: ['undecodable', 'source-error', 'cache-error', 'timeout'],
  skipped: ['vanished', 'too-large', 'wrong-type'],
};
/** Reasons the demo cannot plant (they need a failure or a race); edge-verdicts.test.ts drives them. */
const NOT_IN_DEMO = ['converged', 'source-error', 'timeout', 'cache-error', 'vanished', 'too-large'];

const FAMILIES = DEMO_FAMILIES;

function familyOf(key: string): string | undefined {
  return FAMILIES.find(([, pattern]) => pattern.test(key))?.[0];
}

interface Expected {
  key: string;
  family: string;
  verdict: Verdict;
  reason?: Reason;
}

interface Counts {
  sampled: number;
  judged: number;
  match: number;
  withinTtl: number;
  divergent: number;
  error: number;
  skipped: number;
  byReason: Record<string, number>;
}

function countsOf(expected: readonly Expected[]): Counts {
  const c: Counts = { sampled: 0, judged: 0, match: 0, withinTtl: 0, divergent: 0, error: 0, skipped: 0, byReason: {} };
  for (const r of REASONS) c.byReason[r] = 0;
  for (const e of expected) {
    c.sampled++;
    if (e.verdict === 'match') c.match++;
    else if (e.verdict === 'within-ttl') c.withinTtl++;
    else c[e.verdict]++;
    if (e.reason !== undefined) c.byReason[e.reason] = (c.byReason[e.reason] ?? 0) + 1;
  }
  c.judged = c.match + c.withinTtl + c.divergent;
  return c;
}

/**
 * What proves the audit wrote nothing. INFO commandstats is server-wide, so other test files
 * writing in parallel would make it useless, and MONITOR is too heavy. Instead, three checks that
 * only this file's data can move:
 *  1. Redis, by content: DUMP (the serialized value, type and encoding included) and PTTL of every
 *     key of this file's own logical database, before and after. A write would change a DUMP, add
 *     or remove a key, or move a PTTL other than down by the elapsed time (EXPIRE/PERSIST).
 *  2. Redis, by permission: the audit connects as an ACL user allowed every command except the
 *     @write category; a write attempt would be refused and recorded in ACL LOG under that user
 *     (which only this file uses), so the log must stay empty and the verdicts unchanged.
 *  3. The databases, by content: an md5 over every row of each PostgreSQL table and MariaDB's
 *     CHECKSUM TABLE ... EXTENDED, before and after.
 */
interface RedisSnapshot {
  takenAt: number;
  keys: Map<string, { dump: string; pttl: number }>;
}

async function snapshotRedis(testDb: TestDb): Promise<RedisSnapshot> {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await testDb.redis.scanBuffer(cursor, 'COUNT', 1000);
    cursor = next.toString();
    keys.push(...batch);
  } while (cursor !== '0');
  const pipe = testDb.redis.pipeline();
  for (const key of keys) {
    pipe.dumpBuffer(key);
    pipe.pttl(key);
  }
  const takenAt = Date.now();
  const replies = (await pipe.exec()) ?? [];
  const out = new Map<string, { dump: string; pttl: number }>();
  keys.forEach((key, i) => {
    const [dumpError, dump] = replies[2 * i] ?? [null, null];
    const [pttlError, pttl] = replies[2 * i + 1] ?? [null, null];
    if (dumpError !== null || pttlError !== null) throw dumpError ?? pttlError;
    out.set(key.toString('hex'), { dump: (dump as Buffer).toString('hex'), pttl: pttl as number });
  });
  return { takenAt, keys: out };
}

async function databaseChecksums(schema: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const my = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const users = await client.query(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY t.id)) AS sum FROM ${schema}.users t`);
    const accounts = await client.query(
      `SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY t.account_id)) AS sum FROM ${schema}.account_limits t`,
    );
    // The collection families' tables (issue 17), each as one md5 over its rows.
    const pgTables: Record<string, string> = {};
    for (const table of ['orders', 'follows', 'posts', 'likes']) {
      const r = await client.query(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS sum FROM ${schema}.${table} t`);
      pgTables[table] = `${String(r.rows[0]?.n)}:${String(r.rows[0]?.sum)}`;
    }
    const [collections] = await my.query(`CHECKSUM TABLE ${schema}.scores, ${schema}.variants EXTENDED`);
    const [products] = await my.query(`CHECKSUM TABLE ${schema}.products EXTENDED`);
    const [count] = await my.query(`SELECT COUNT(*) AS n FROM ${schema}.products`);
    const row = (rows: unknown) => (rows as Record<string, unknown>[])[0] ?? {};
    return {
      users: `${String(row(users.rows)['n'])}:${String(row(users.rows)['sum'])}`,
      accounts: `${String(row(accounts.rows)['n'])}:${String(row(accounts.rows)['sum'])}`,
      products: `${String(row(count)['n'])}:${String(row(products)['Checksum'])}`,
      ...pgTables,
      scoresAndVariants: (collections as Record<string, unknown>[]).map((r) => String(r['Checksum'])).join(':'),
    };
  } finally {
    await client.end();
    await my.end();
  }
}

async function dropDemoSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const my = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await my.query(`DROP DATABASE IF EXISTS ${schema}`);
  } finally {
    await client.end();
    await my.end();
  }
}

describe('shadowcheck audit on the demo plan (--all --format ndjson)', () => {
  const schema = `sc_${randomBytes(5).toString('hex')}`;
  let testDb: TestDb;
  let readOnly: AclUser | undefined;
  let plan: DemoPlan;
  let expected: Expected[];
  let unmatchedKeys: string[];
  let report: NdjsonReport;
  let exitCode: number | null;
  let output: string;
  let before: { redis: RedisSnapshot; db: Record<string, string> };
  let after: { redis: RedisSnapshot; db: Record<string, string> };

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);

    plan = buildDemoPlan();
    // The demo gives some matching account-limits entries 5-29 s TTLs: fine for `shadowcheck demo`,
    // which audits right after seeding, but on a loaded CI machine one could expire before it is
    // read and turn into skipped/vanished or disappear. A matching key is decided at step 4,
    // before any TTL step, so lengthening its expiry (within the family's 60 s) changes no verdict.
    for (const entry of plan.entries) {
      if (!plan.expected.has(entry.key) && entry.ttlS !== null && entry.ttlS < 30) entry.ttlS = 55;
    }
    await seedDemo(plan, { redisUrl: testDb.url, postgresUrl: PG_URL, mysqlUrl: MYSQL_URL, schema });

    expected = [];
    unmatchedKeys = [];
    for (const entry of plan.entries) {
      const family = familyOf(entry.key);
      if (family === undefined) {
        unmatchedKeys.push(entry.key);
        continue;
      }
      const e = plan.expected.get(entry.key) ?? { verdict: 'match' as const };
      expected.push({ key: entry.key, family, verdict: e.verdict, ...(e.reason === undefined ? {} : { reason: e.reason }) });
    }

    readOnly = await createAclUser(testDb.redis, 'sc_audit_ro', ['~*', '&*', '+@all', '-@write']);
    before = { redis: await snapshotRedis(testDb), db: await databaseChecksums(schema) };
    const result = await runCli(
      ['audit', '--rules', 'rules/demo.yaml', '--redis', readOnly.url(REDIS_DB), '--all', '--format', 'ndjson'],
      { SHADOWCHECK_DEMO_SCHEMA: schema, SHADOWCHECK_DEMO_POSTGRES_URL: PG_URL, SHADOWCHECK_DEMO_MYSQL_URL: MYSQL_URL },
      90_000,
    );
    after = { redis: await snapshotRedis(testDb), db: await databaseChecksums(schema) };
    exitCode = result.code;
    output = result.stdout + result.stderr;
    if (result.code !== 1) throw new Error(`audit exited ${String(result.code)}:\n${result.stderr}`);
    report = parseNdjson(result.stdout);
  }, 120_000);

  afterAll(async () => {
    await readOnly?.drop().catch(() => {});
    if (testDb !== undefined) {
      await testDb.sweep(['demo:', OWNER_KEY]);
      await testDb.close();
    }
    await dropDemoSchema(schema);
  });

  it('the plan is what this test assumes: one unmatched key, and every family populated', () => {
    expect(unmatchedKeys).toEqual(['demo:user:1:sessions']);
    for (const [name] of FAMILIES) expect(expected.some((e) => e.family === name), name).toBe(true);
    expect(new Set(plan.entries.map((e) => e.key)).size).toBe(plan.entries.length);
  });

  it('covers every reason of SEMANTICS.md except the six that need a failure or a race', () => {
    // The code's reason list is the document's, so reports can be read against SEMANTICS.md.
    expect(Object.fromEntries(VERDICTS.map((v) => [v, [...REASONS_BY_VERDICT[v]]]))).toEqual(SEMANTICS_REASONS);
    const planted = new Set([...plan.expected.values()].flatMap((e) => (e.reason === undefined ? [] : [e.reason])));
    const all = Object.values(SEMANTICS_REASONS).flat();
    expect([...planted].sort()).toEqual(all.filter((r) => !NOT_IN_DEMO.includes(r)).sort());
    // ... and what the audit reported covers them too, not just what the plan promised.
    const reported = new Set(report.keys.flatMap((k) => (k.reason === undefined ? [] : [k.reason])));
    expect([...reported].sort()).toEqual([...planted].sort());
  });

  it('gives every planted key exactly its planned verdict and reason, key by key', () => {
    const mismatches: string[] = [];
    for (const e of expected) {
      const line = report.byKey.get(e.key);
      if (line === undefined) {
        mismatches.push(`${e.key}: no line (expected ${label(e)})`);
        continue;
      }
      if (label(line) !== label(e) || line.family !== e.family) {
        mismatches.push(`${e.key}: expected ${e.family} ${label(e)}, got ${line.family} ${label(line)}`);
      }
      if (line.verdict === 'match' && 'reason' in line) mismatches.push(`${e.key}: a match carries a reason`);
    }
    expect(mismatches).toEqual([]);
  });

  it('names what changed in each planted collection: members, scores and child fields by their identity', () => {
    const paths = (key: string) => (report.byKey.get(key)?.diff ?? []).map((d) => d.path);
    expect(paths('demo:user:61:orders')).toEqual(['members']);
    expect(paths('demo:user:63:follows')).toEqual(['members']);
    expect(paths('demo:user:65:order-history')).toEqual(['members (order)']);
    expect(paths('demo:post:46:likes')).toEqual(['likes']);
    expect(paths('demo:board:12')).toEqual([expect.stringMatching(/^scores\[player-12-\d+\]$/)]);
    expect(paths('demo:product-page:SKU-0041')).toEqual([expect.stringMatching(/^variants\[SKU-0041-[a-z]+\]\.price$/)]);
  });

  it('reports every key of a family exactly once, and nothing else (no line for the unmatched key)', () => {
    expect(report.keys.length).toBe(expected.length);
    expect(new Set(report.byKey.keys())).toEqual(new Set(expected.map((e) => e.key)));
    for (const key of unmatchedKeys) expect(report.byKey.has(key)).toBe(false);
    expect(report.byKey.has(OWNER_KEY)).toBe(false);
  });

  it('ends with a summary whose counters are those the plan implies', () => {
    const want = countsOf(expected);
    const { summary } = report.summary;
    expect({
      sampled: summary.sampled,
      judged: summary.judged,
      match: summary.match,
      withinTtl: summary.withinTtl,
      divergent: summary.divergent,
      error: summary.error,
      skipped: summary.skipped,
      byReason: summary.byReason,
    }).toEqual(want);
    // The plan's one unmatched key and the demo's owner marker (`shadowcheck-demo:owner`): since
    // issue 16, unmatched counts every key of the keyspace that no family covers.
    expect(summary.unmatched).toBe(2);
    expect(summary.consistency).toBeCloseTo((want.match + want.withinTtl) / want.judged, 12);
    expect(summary.strictConsistency).toBeCloseTo(want.match / want.judged, 12);
    expect(summary.nines).toBeCloseTo(-Math.log10(1 - (want.match + want.withinTtl) / want.judged), 2);
    // Stale keys with a known change time exist (user-profile and product), so there are stale ages.
    expect(summary.staleAgeMs.max).not.toBeNull();
    expect(summary.staleAgeMs.max).toBeGreaterThan(0);

    expect(report.summary.families.map((f) => f.name)).toEqual(FAMILIES.map(([name]) => name));
    for (const family of report.summary.families) {
      const w = countsOf(expected.filter((e) => e.family === family.name));
      expect({ ...w, name: family.name }, family.name).toEqual({
        name: family.name,
        sampled: family.sampled,
        judged: family.judged,
        match: family.match,
        withinTtl: family.withinTtl,
        divergent: family.divergent,
        error: family.error,
        skipped: family.skipped,
        byReason: family.byReason,
      });
    }
  });

  it('fails the gate on the divergent keys (exit 1), with the failure spelled out', () => {
    const divergent = expected.filter((e) => e.verdict === 'divergent').length;
    expect(divergent).toBeGreaterThan(0);
    expect(exitCode).toBe(1);
    expect(report.summary.gate).toEqual({ passed: false, failures: [`divergent ${divergent} > max 0`] });
    expect(report.summary.incomplete).toBeUndefined();
  });

  it('never prints the Redis password, and no stack trace', () => {
    expect(readOnly).toBeDefined();
    expect(output).not.toContain(readOnly?.password ?? '<none>');
    expect(output).not.toMatch(STACK_TRACE);
  });

  it('writes nothing to Redis: every DUMP identical, every PTTL only run down by the elapsed time', () => {
    expect(before.redis.keys.size).toBe(plan.entries.length + 1); // + the demo's owner key
    expect([...after.redis.keys.keys()].sort()).toEqual([...before.redis.keys.keys()].sort());
    const elapsed = after.redis.takenAt - before.redis.takenAt;
    const changed: string[] = [];
    for (const [hex, b] of before.redis.keys) {
      const a = after.redis.keys.get(hex);
      const key = Buffer.from(hex, 'hex').toString();
      if (a === undefined) continue;
      if (a.dump !== b.dump) changed.push(`${key}: value changed`);
      const ttlOk = b.pttl === -1 ? a.pttl === -1 : a.pttl !== -1 && a.pttl <= b.pttl && a.pttl >= b.pttl - elapsed - 250;
      if (!ttlOk) changed.push(`${key}: pttl ${b.pttl} -> ${a.pttl} over ${elapsed} ms`);
    }
    expect(changed).toEqual([]);
  });

  it('writes nothing to Redis: a user denied every @write command audits it with no denial logged', async () => {
    expect(await readOnly?.deniedLog()).toEqual([]);
  });

  it('writes nothing to PostgreSQL or MariaDB: row checksums unchanged', () => {
    expect(before.db['users']).toMatch(/^2000:[0-9a-f]{32}$/);
    expect(before.db['products']).toMatch(/^1000:\d+$/);
    expect(before.db['orders']).toMatch(/^\d+:[0-9a-f]{32}$/);
    expect(before.db['scoresAndVariants']).toMatch(/^\d+:\d+$/);
    expect(after.db).toEqual(before.db);
  });
});
