/**
 * A cached value built from a join (seed 003's account limits: the account, its plan's limit and
 * its usage) audited three ways: a PostgreSQL `query` with JOINs, a PostgreSQL view in `table`
 * form, and a MariaDB `query` with JOINs. The row's change time is the latest of the joined rows'
 * (`GREATEST`): a plan whose limit was raised 30 s ago changes every account on it, and the cache
 * written before that is within its TTL, not a race. With the account's own `updated_at` alone,
 * the same key reads as repopulated after the change: a false divergent, shown here as the reason
 * the README asks for GREATEST.
 *
 * Isolation: logical database 7 of a private redis-server (only `jn:` keys), throwaway `sc_<hex>` schema and database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 7;
const PREFIX = 'jn:';
/** The families' key prefixes: pg join, pg view, mysql join, pg join without GREATEST. */
const VIEWS = ['pg', 'view', 'my', 'naive'] as const;

/** Cached values, as the application wrote them, and their remaining TTL (s), or none. */
const CACHED: { id: number; value: object; ttlS?: number }[] = [
  { id: 1, value: { accountId: 1, plan: 'basic', monthlyApiLimit: 1000, apiCallsUsed: 10 }, ttlS: 290 },
  // Written 100 s ago, before the pro plan's limit went from 500,000 to 1,000,000 (30 s ago).
  { id: 2, value: { accountId: 2, plan: 'pro', monthlyApiLimit: 500000, apiCallsUsed: 5 }, ttlS: 200 },
  // Usage was reset in the database but the cache kept the old count, with no expiry.
  { id: 3, value: { accountId: 3, plan: 'basic', monthlyApiLimit: 1000, apiCallsUsed: 999 } },
  // The account was deleted; its entry has no expiry.
  { id: 4, value: { accountId: 4, plan: 'basic', monthlyApiLimit: 1000, apiCallsUsed: 0 } },
];

const SCHEMA_SQL = {
  pg: (s: string) => [
    `CREATE TABLE ${s}.plans (plan_id int PRIMARY KEY, name text NOT NULL, monthly_api_limit bigint NOT NULL, updated_at timestamptz(3) NOT NULL)`,
    `CREATE TABLE ${s}.accounts (account_id int PRIMARY KEY, plan_id int NOT NULL REFERENCES ${s}.plans, updated_at timestamptz(3) NOT NULL)`,
    `CREATE TABLE ${s}.usage (account_id int PRIMARY KEY REFERENCES ${s}.accounts, api_calls_used int NOT NULL)`,
    `INSERT INTO ${s}.plans VALUES (1, 'basic', 1000, now() - interval '1 day'), (2, 'pro', 1000000, now() - interval '30 seconds')`,
    `INSERT INTO ${s}.accounts VALUES (1, 1, now() - interval '1 day'), (2, 2, now() - interval '1 day'), (3, 1, now() - interval '1 day')`,
    `INSERT INTO ${s}.usage VALUES (1, 10), (2, 5), (3, 0)`,
  ],
  my: () => [
    'CREATE TABLE plans (plan_id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, monthly_api_limit BIGINT NOT NULL, updated_at DATETIME(3) NOT NULL)',
    'CREATE TABLE accounts (account_id INT PRIMARY KEY, plan_id INT NOT NULL, updated_at DATETIME(3) NOT NULL)',
    'CREATE TABLE `usage` (account_id INT PRIMARY KEY, api_calls_used INT NOT NULL)',
    "INSERT INTO plans VALUES (1, 'basic', 1000, UTC_TIMESTAMP(3) - INTERVAL 1 DAY), (2, 'pro', 1000000, UTC_TIMESTAMP(3) - INTERVAL 30 SECOND)",
    'INSERT INTO accounts VALUES (1, 1, UTC_TIMESTAMP(3) - INTERVAL 1 DAY), (2, 2, UTC_TIMESTAMP(3) - INTERVAL 1 DAY), (3, 1, UTC_TIMESTAMP(3) - INTERVAL 1 DAY)',
    'INSERT INTO `usage` VALUES (1, 10), (2, 5), (3, 0)',
  ],
};

describe('shadowcheck audit of values cached from a join', () => {
  let testDb: TestDb;
  let pgBox: Sandbox;
  let myBox: Sandbox;
  let dir: TempDir;
  let report: NdjsonReport;

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep([PREFIX]);
    [pgBox, myBox] = await Promise.all([createPgSandbox(), createMysqlSandbox()]);
    dir = await makeTempDir('sc-joins-');
    const s = pgBox.name;
    for (const sql of SCHEMA_SQL.pg(s)) await pgBox.exec(sql);
    for (const sql of SCHEMA_SQL.my()) await myBox.exec(sql);
    const select = (q: string, latest: string) =>
      `SELECT a.account_id AS ${q}accountId${q}, p.name AS plan, p.monthly_api_limit AS ${q}monthlyApiLimit${q}, ` +
      `u.api_calls_used AS ${q}apiCallsUsed${q}, ${latest} AS ${q}updatedAt${q}`;
    const from = (prefix: string, usage: string) =>
      `FROM ${prefix}accounts a JOIN ${prefix}plans p ON p.plan_id = a.plan_id JOIN ${prefix}${usage} u ON u.account_id = a.account_id`;
    await pgBox.exec(`CREATE VIEW ${s}.account_limits AS ${select('"', 'GREATEST(a.updated_at, p.updated_at)')} ${from(`${s}.`, 'usage')}`);

    const pipe = testDb.redis.pipeline();
    for (const view of VIEWS) {
      for (const entry of CACHED) {
        const key = `${PREFIX}${view}:${entry.id}`;
        if (entry.ttlS === undefined) pipe.set(key, JSON.stringify(entry.value));
        else pipe.set(key, JSON.stringify(entry.value), 'EX', entry.ttlS);
      }
    }
    await pipe.exec();

    const family = (name: string, view: string, source: string, loading: string) => [
      `  - name: ${name}`,
      `    pattern: "${PREFIX}${view}:{accountId}"`,
      `    source: ${source}`,
      `    ${loading}`,
      '    updatedAt: updatedAt',
      '    exclude: [updatedAt]',
      '    ttl: 300s',
    ];
    const rules = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${pgBox.url}" }`,
        `  shop: { kind: mysql, url: "${myBox.url}" }`,
        'families:',
        ...family('limits-pg-join', 'pg', 'main', `query: '${select('"', 'GREATEST(a.updated_at, p.updated_at)')} ${from(`${s}.`, 'usage')} WHERE a.account_id = ANY($1)'`),
        ...family('limits-pg-view', 'view', 'main', `table: ${s}.account_limits`),
        ...family('limits-mysql-join', 'my', 'shop', `query: '${select('`', 'GREATEST(a.updated_at, p.updated_at)')} ${from('', '`usage`')} WHERE a.account_id IN (?)'`),
        ...family('limits-naive', 'naive', 'main', `query: '${select('"', 'a.updated_at')} ${from(`${s}.`, 'usage')} WHERE a.account_id = ANY($1)'`),
      ].join('\n'),
    );
    report = parseRunNdjson(await runCli(['audit', '--rules', rules, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0']));
  }, 120_000);

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep([PREFIX]);
      await testDb.close();
    }
    await Promise.all([pgBox?.drop(), myBox?.drop()]);
    await dir?.remove();
  });

  const verdicts = (view: string) => Object.fromEntries(CACHED.map(({ id }) => [id, label(report.byKey.get(`${PREFIX}${view}:${id}`) ?? { verdict: 'missing' })]));
  const EXPECTED = { 1: 'match', 2: 'within-ttl/ttl-bounded', 3: 'divergent/no-ttl', 4: 'divergent/orphan' };

  it.each(['pg', 'view', 'my'])('%s: judges the joined value, with the change time of the latest joined row', (view) => {
    expect(verdicts(view)).toEqual(EXPECTED);
  });

  it('names the joined fields that differ', () => {
    expect(report.byKey.get(`${PREFIX}pg:2`)?.diff).toEqual([{ path: 'monthlyApiLimit', cache: 500000, source: '1000000' }]);
    expect(report.byKey.get(`${PREFIX}my:3`)?.diff).toEqual([{ path: 'apiCallsUsed', cache: 999, source: 0 }]);
  });

  it("with only the account's own change time, the raised plan limit reads as a race (why GREATEST)", () => {
    expect(verdicts('naive')).toEqual({ ...EXPECTED, 2: 'divergent/stale-repopulated' });
  });
});
