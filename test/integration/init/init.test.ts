/**
 * `shadowcheck init` on the demo dataset, through the built CLI: the proposal validates unedited,
 * and an audit with it gives every key the verdict the demo plans, except for exactly the keys
 * whose verdict depends on what no inference can see (the demo's hand-set 120 s freshness budget
 * for products); the compiled proposal differs from rules/demo.yaml in exactly the listed ways.
 * Also: --output never replaces a file without --force, bad --source is a usage error, and init
 * writes nothing to Redis (it runs as an ACL user denied every @write command).
 *
 * Isolation: logical database 14 of a private redis-server and a throwaway `sc_init_<hex>` PostgreSQL schema and
 * MariaDB database (seedDemo creates both), all removed afterwards. Other test files seed copies
 * of the same demo data at the same time, so init is told which copy is "ours" the way a user
 * would: the MySQL URL names the database, and PGOPTIONS puts the schema on the search_path;
 * on a tie, init prefers tables there. A decoy schema beside it holds a dense `items` table
 * (ids 1..5000, `name` and `email` columns, as a benchmark or another service leaves behind): it
 * holds every sampled user id, the users table misses the orphaned ones, and init must still
 * choose the table whose values agree.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { buildDemoPlan, type DemoPlan } from '../../../src/demo/plan.js';
import { demoTargets, seedDemo, type DemoTargets } from '../../../src/demo/seed.js';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { label, makeTempDir, parseNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { MYSQL_URL, PG_URL } from '../helpers/db.js';
import { createAclUser, openTestDb, type AclUser, type TestDb } from '../helpers/redis.js';

// Logical database 14 of a private redis-server started for this file.
const REDIS_DB = 14;
let REDIS_URL = `redis://127.0.0.1:1/${REDIS_DB}`;
const OWNER_KEY = 'shadowcheck-demo:owner';

/**
 * The verdicts init's proposal cannot reproduce, and why (see the report of issue 8, part 5):
 * rules/demo.yaml gives products a 120 s freshness budget under a 600 s TTL, a promise the
 * application makes and the data cannot show; init leaves maxStaleness at its default, the TTL.
 * - SKU-0961..0965 were stale for 500 s: beyond 120 s, within 600 s.
 * - SKU-9001/9002 are orphans with 300 s left: bounded by a 600 s TTL that fits a 600 s budget,
 *   not a 120 s one (SEMANTICS.md step 3).
 */
const EXPECTED_DIFFERENCES = [
  ...['0961', '0962', '0963', '0964', '0965'].map((n) => `demo:product:SKU-${n}: expected divergent/stale-beyond-budget, got within-ttl/ttl-bounded`),
  ...['9001', '9002'].map((n) => `demo:product:SKU-${n}: expected divergent/orphan, got within-ttl/ttl-bounded-assumed`),
  // The same hand-set budgets on the collection families (600 s under a 3600 s TTL for follows, 120 s under 600 s for the board).
  'demo:user:63:follows: expected divergent/stale-beyond-budget, got within-ttl/ttl-bounded-assumed',
  'demo:user:64:follows: expected divergent/orphan, got within-ttl/ttl-bounded-assumed',
  'demo:board:12: expected divergent/stale-beyond-budget, got within-ttl/ttl-bounded',
  // The lag a counter may have is the application's: init proposes the tolerance that covers 90% of
  // the sampled counters (0 here), under a "review: counter guess" note.
  'demo:post:47:likes: expected match, got divergent/no-ttl',
  // Init does not build documents from several tables: the page's variants are named in a review
  // note as "not compared", so the stale child field goes unseen until the family is edited.
  'demo:product-page:SKU-0041: expected divergent/stale-beyond-budget, got match',
  // created_at and updated_at order the sampled arrays alike except on the planted key; init takes
  // the order that reproduces more keys and names the other in a review note.
  'demo:user:65:order-history: expected within-ttl/ttl-bounded, got match',
].sort();

/** What a compiled family means for the audit (names and the spelling of SQL aside). */
function meaning(rule: FamilyRule): Record<string, unknown> {
  const sql = rule.query?.replace(/\s+/g, ' ').trim();
  return {
    glob: rule.pattern.glob,
    type: rule.type,
    codec: rule.type === 'hash' ? '(hash)' : rule.codec,
    source: rule.source,
    load: sql ?? `table ${rule.table ?? ''}`,
    key: [rule.key].flat(),
    fields: rule.fields === undefined ? 'all' : [...rule.fields].sort(),
    exclude: rule.exclude,
    version: rule.version,
    updatedAt: rule.updatedAt,
    ttlMs: rule.ttlMs,
    maxStalenessMs: rule.maxStalenessMs,
    clockSkewMs: rule.clockSkewMs,
    normalize: rule.normalize,
    redact: [...rule.redact].sort(),
    negativeMarker: rule.negativeMarker,
  };
}

async function createDecoy(targets: DemoTargets): Promise<void> {
  const client = new pg.Client({ connectionString: targets.postgresUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${targets.schema}_decoy`);
    await client.query(`CREATE TABLE ${targets.schema}_decoy.items (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL)`);
    await client.query(`INSERT INTO ${targets.schema}_decoy.items SELECT i, 'Item ' || i, 'item' || i || '@example.com' FROM generate_series(1, 5000) i`);
  } finally {
    await client.end();
  }
}

async function dropDemo(targets: DemoTargets): Promise<void> {
  const client = new pg.Client({ connectionString: targets.postgresUrl });
  await client.connect();
  const my = await mysql.createConnection({ uri: targets.mysqlUrl });
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${targets.schema}_decoy CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${targets.schema} CASCADE`);
    await my.query(`DROP DATABASE IF EXISTS ${targets.schema}`);
  } finally {
    await client.end();
    await my.end();
  }
}

describe('shadowcheck init on the demo dataset', () => {
  const schema = `sc_init_${randomBytes(5).toString('hex')}`;
  const demoEnv = () => ({
    ...process.env,
    SHADOWCHECK_DEMO_SCHEMA: schema,
    SHADOWCHECK_DEMO_REDIS_URL: REDIS_URL,
    SHADOWCHECK_DEMO_POSTGRES_URL: PG_URL,
    SHADOWCHECK_DEMO_MYSQL_URL: MYSQL_URL,
  });
  let targets: DemoTargets | undefined;
  let testDb: TestDb | undefined;
  const mysqlSource = Object.assign(new URL(MYSQL_URL), { pathname: `/${schema}` }).toString();
  // A password in the URL (the local server trusts the user, so any password works): it must
  // reach neither the output nor the file.
  const pgSource = Object.assign(new URL(PG_URL), { password: 'init-secret-pw' }).toString();
  const initEnv = { PGOPTIONS: `-c search_path=${schema}` };
  let redis: Redis;
  let readOnly: AclUser | undefined;
  let dir: TempDir;
  let plan: DemoPlan;
  let rulesFile: string;
  let init: CliResult;
  let validate: CliResult;
  let audit: CliResult;
  let report: NdjsonReport;

  const initArgs = (output?: string, ...more: string[]) => [
    'init',
    '--redis',
    readOnly?.url(REDIS_DB) ?? REDIS_URL,
    '--source',
    `main=${pgSource}`,
    '--source',
    `shop=${mysqlSource}`,
    ...(output === undefined ? [] : ['--output', output]),
    ...more,
  ];

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    REDIS_URL = testDb.url;
    redis = testDb.redis;
    targets = demoTargets(demoEnv());
    dir = await makeTempDir('shadowcheck-init-');
    rulesFile = dir.file('proposed.yaml');

    plan = buildDemoPlan();
    // As in the audit verdicts test: a matching entry is decided before any TTL step, so a longer
    // expiry (within the family's TTL) changes no verdict but keeps slow machines from losing it.
    for (const entry of plan.entries) {
      if (!plan.expected.has(entry.key) && entry.ttlS !== null && entry.ttlS < 30) entry.ttlS = 55;
    }
    await seedDemo(plan, targets);
    await createDecoy(targets);
    readOnly = await createAclUser(redis, 'sc_init_ro', ['~*', '&*', '+@all', '-@write']);

    init = await runCli(initArgs(rulesFile), initEnv, 90_000);
    if (init.code !== 0) throw new Error(`init exited ${String(init.code)}:\n${init.stderr}`);
    validate = await runCli(['rules', 'validate', rulesFile]);
    audit = await runCli(['audit', '--rules', rulesFile, '--redis', REDIS_URL, '--all', '--format', 'ndjson'], {}, 90_000);
    if (audit.code !== 1) throw new Error(`audit exited ${String(audit.code)}:\n${audit.stderr}`);
    report = parseNdjson(audit.stdout);
  }, 180_000);

  afterAll(async () => {
    await readOnly?.drop().catch(() => {});
    await testDb?.close();
    if (targets !== undefined) await dropDemo(targets);
    await dir?.remove();
  });

  it('writes a proposal that validates unedited, with the schema line and every guess marked', async () => {
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/OK: 9 families/);
    const text = await readFile(rulesFile, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+rules\.schema\.json$/);
    expect(text).toMatch(/# review: maxStaleness/);
    expect(text.match(/^\s*# guess: /gm)?.length).toBeGreaterThan(20);
    expect(init.stdout).toBe('');
    expect(init.stderr).toMatch(/init: wrote .*proposed\.yaml: 9 families/);
    // The collection proposals are marked for review, the counter as a guess.
    expect(text).toMatch(/# review: one key holds many rows, compared as a collection by member\n\s+rows: many/);
    expect(text).toMatch(/# review: counter guess: the count of \S+likes rows per \S+posts row/);
    expect(text).toMatch(/# review: these orders fit almost as well: updated_at DESC, id DESC/);
  });

  it('audits the demo with the planned verdict for every key, except exactly the listed differences', () => {
    const surprises: string[] = [];
    let judged = 0;
    for (const entry of plan.entries) {
      if (entry.key === 'demo:user:1:sessions') continue; // no family claims it, in either file
      judged++;
      const want = plan.expected.get(entry.key) ?? { verdict: 'match' as const };
      const line = report.byKey.get(entry.key);
      if (line === undefined) surprises.push(`${entry.key}: no line (expected ${label(want)})`);
      else if (label(line) !== label(want)) surprises.push(`${entry.key}: expected ${label(want)}, got ${label(line)}`);
    }
    expect(surprises.sort()).toEqual(EXPECTED_DIFFERENCES);
    expect(report.keys.length).toBe(judged);
    // Every key no family covers (issue 16): demo:user:1:sessions, and the demo's owner marker.
    expect(report.summary.summary.unmatched).toBe(2);
    expect(report.byKey.has(OWNER_KEY)).toBe(false);
  });

  it('differs from rules/demo.yaml in exactly these ways once both are compiled', async () => {
    const proposed = await loadRulesFile(rulesFile, {});
    const demo = await loadRulesFile('rules/demo.yaml', { SHADOWCHECK_DEMO_SCHEMA: schema, SHADOWCHECK_DEMO_POSTGRES_URL: PG_URL, SHADOWCHECK_DEMO_MYSQL_URL: mysqlSource });
    expect(Object.values(proposed.sources).map((s) => [s.name, s.kind])).toEqual(Object.values(demo.sources).map((s) => [s.name, s.kind]));
    const differences: string[] = [];
    for (const hand of demo.families) {
      const mine = proposed.families.find((f) => f.pattern.glob === hand.pattern.glob);
      if (mine === undefined) {
        differences.push(`${hand.name}: no family`);
        continue;
      }
      const a = meaning(hand);
      const b = meaning(mine);
      for (const key of Object.keys(a)) {
        if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) differences.push(`${hand.name}.${key}: ${JSON.stringify(a[key])} -> ${JSON.stringify(b[key])}`);
      }
      const names = (rule: FamilyRule) => [...rule.pattern.source.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).join(',');
      if (names(hand) !== names(mine)) differences.push(`${hand.name}.placeholder: ${names(hand)} -> ${names(mine)}`);
    }
    expect(differences).toEqual([
      'account-limits.fields: "all" -> ["apiCallsUsed","monthlyApiLimit","plan"]',
      'account-limits.maxStalenessMs: 120000 -> 60000',
      'account-limits.placeholder: id -> accountId',
      'product.maxStalenessMs: 120000 -> 600000',
      'recent-orders.placeholder: id -> user_id',
      'order-history.placeholder: id -> user_id',
      'follows.maxStalenessMs: 600000 -> 3600000',
      'follows.placeholder: id -> user_id',
      // The same count, its join alias aside.
      `post-likes.load: "SELECT p.id, count(l.post_id) AS likes FROM ${schema}.posts p LEFT JOIN ${schema}.likes l ON l.post_id = p.id WHERE p.id = ANY($1) GROUP BY p.id" -> "SELECT p.id, count(c.post_id) AS likes FROM ${schema}.posts p LEFT JOIN ${schema}.likes c ON c.post_id = p.id WHERE p.id = ANY($1) GROUP BY p.id"`,
      'leaderboard.maxStalenessMs: 120000 -> 600000',
      `product-page.load: "SELECT sku, name, price, updated_at FROM ${schema}.products WHERE sku IN (?)" -> "table ${schema}.products"`,
      'product-page.fields: "all" -> ["name","price"]',
      'product-page.exclude: ["updated_at"] -> undefined',
      'product-page.maxStalenessMs: 120000 -> 600000',
    ]);
    expect(proposed.families.map((f) => f.name)).toEqual([
      'demo-user',
      'demo-product',
      'demo-account-limits',
      'demo-user-order-history',
      'demo-user-follows',
      'demo-user-orders',
      'demo-post-likes',
      'demo-product-page',
      'demo-board',
    ]);
    // What `meaning` leaves out: how the collections are read.
    const many = (name: string) => proposed.families.find((f) => f.name === name)?.many;
    expect(many('demo-user-orders')).toEqual(demo.families.find((f) => f.name === 'recent-orders')?.many);
    expect(many('demo-user-follows')).toEqual(demo.families.find((f) => f.name === 'follows')?.many);
    expect(many('demo-board')).toEqual(demo.families.find((f) => f.name === 'leaderboard')?.many);
    expect(many('demo-user-order-history')).toEqual({ ...demo.families.find((f) => f.name === 'order-history')?.many, orderBy: [{ column: 'created_at', descending: true }, { column: 'id', descending: true }] });
    expect(proposed.families.find((f) => f.name === 'demo-post-likes')?.tolerance).toEqual({ '*': { kind: 'absolute', amount: '0' } });
  });

  it('never prints or writes the passwords, writes nothing to Redis, and prints no stack trace', async () => {
    const text = await readFile(rulesFile, 'utf8');
    for (const output of [init.stdout + init.stderr, text]) {
      expect(output).not.toContain('init-secret-pw');
      expect(output).not.toContain(readOnly?.password ?? '<none>');
      expect(output).not.toMatch(STACK_TRACE);
    }
    expect(text).toContain(`url: "\${MAIN_DATABASE_URL:-${PG_URL}}"`);
    expect(await readOnly?.deniedLog()).toEqual([]);
  });

  it('refuses to overwrite an existing --output file without --force (exit 2, file untouched), and replaces it with --force', async () => {
    const existing = await dir.write('existing.yaml', 'keep me\n');
    const before = await stat(existing);
    const refused = await runCli(initArgs(existing), initEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--output .*existing\.yaml already exists; init does not overwrite it/);
    expect(refused.stderr).toMatch(/hint: pass --force/);
    expect(await readFile(existing, 'utf8')).toBe('keep me\n');
    expect((await stat(existing)).mtimeMs).toBe(before.mtimeMs);

    const forced = await runCli(initArgs(existing, '--force'), initEnv, 90_000);
    expect(forced.code).toBe(0);
    expect(await readFile(existing, 'utf8')).toMatch(/^# yaml-language-server: /);
    const again = await runCli(['rules', 'validate', existing]);
    expect(again.code).toBe(0);
  }, 120_000);

  it('prints the proposal on stdout without --output, and only the proposal', async () => {
    const result = await runCli(initArgs(), initEnv, 90_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^# yaml-language-server: \$schema=\.\/rules\/rules\.schema\.json\n/);
    expect(result.stdout).not.toMatch(/^init: /m);
    expect(result.stderr).toMatch(/init: proposed 9 families/);
  }, 120_000);

  it.each([
    [['--source', 'main'], /--source main: expected NAME=URL/],
    [['--source', 'main=redis://127.0.0.1:6379/0'], /unsupported scheme "redis:"; expected postgres:\/\/, postgresql:\/\/, mysql:\/\/, mariadb:\/\//],
    [['--source', 'bad name=postgres://h/db'], /the name must start with a letter or digit/],
    [[], /init needs at least one --source NAME=URL/],
  ])('a bad --source (%j) is a usage error: exit 2, a clear message, no stack trace', async (args, message) => {
    const result = await runCli(['init', '--redis', REDIS_URL, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stdout).toBe('');
  });
});
