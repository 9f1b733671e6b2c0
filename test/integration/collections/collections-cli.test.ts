/**
 * Issue 17's acceptance test, through the CLI, on real Redis, PostgreSQL and MariaDB: caches that
 * are not one row. For each new shape a correct entry matches, and each planted bug gets the
 * verdict and reason of SEMANTICS.md read for collections (README, "Collections and documents"):
 *
 * - a LIST of a user's last 3 order ids (`rows: many`, orderBy + limit): a tie reordered and a tie
 *   at the limit boundary match; a missing member written after the row's insert is a
 *   repopulated race; a stale list with no expiry is `no-ttl`; a list whose user has no orders is
 *   an orphaned collection;
 * - a SET of follower ids (query form): an extra member (a follower removed) has no known change
 *   time, so the budget decides (step 8);
 * - a ZSET leaderboard with float scores (Python's `zadd` of 0.1 + 0.2): a wrong score written after
 *   the change is a repopulated race; a LIST under the ZSET family is `wrong-type`;
 * - a string caching a JSON array of documents (a playlist in position order): a stale order is
 *   caught, an empty `[]` for a list with no rows matches;
 * - a product document with its variants (`children`): a stale child without expiry is `no-ttl`, and
 *   a stale child within the TTL is NOT a repopulated race (the parent's change time says nothing
 *   about its children);
 * - a like counter against `count(*)` with `tolerance: 2`.
 *
 * Values are written as a Python service writes them (redis-py `rpush`/`sadd`/`zadd` of ints and
 * floats, `json.dumps`). Isolation: a private redis-server, `sc_<hex>` schema and database, dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

type Dialect = 'pg' | 'my';

/** `ago(250)`: a timestamp 250 s before the database's now, in each dialect. */
const AGO = {
  pg: (s: number) => `now() - interval '${s} seconds'`,
  my: (s: number) => `UTC_TIMESTAMP(3) - INTERVAL ${s} SECOND`,
};
const DAY = 86_400;

function schemaSql(d: Dialect, t: (name: string) => string): string[] {
  const ago = AGO[d];
  const ts = d === 'pg' ? 'timestamptz(3)' : 'DATETIME(3)';
  const text = d === 'pg' ? 'text' : 'VARCHAR(40)';
  const float = d === 'pg' ? 'float8' : 'DOUBLE';
  // 0.1 + 0.2 as doubles (0.30000000000000004): SQL's 0.1 + 0.2 is an exact decimal 0.3.
  const pointThree = d === 'pg' ? "'0.1'::float8 + '0.2'::float8" : '0.1e0 + 0.2e0';
  return [
    `CREATE TABLE ${t('orders')} (id bigint PRIMARY KEY, user_id int NOT NULL, created_at ${ts} NOT NULL, updated_at ${ts} NOT NULL)`,
    `INSERT INTO ${t('orders')} VALUES ` +
      [
        // user 1: 103 and 104 were created at the same instant (a tie on orderBy).
        `(101, 1, ${ago(3 * DAY)}, ${ago(3 * DAY)})`,
        `(102, 1, ${ago(2 * DAY)}, ${ago(2 * DAY)})`,
        `(103, 1, ${ago(DAY)}, ${ago(DAY)})`,
        `(104, 1, ${ago(DAY)}, ${ago(DAY)})`,
        // user 2: order 203 was placed 250 s ago.
        `(201, 2, ${ago(3 * DAY)}, ${ago(3 * DAY)})`,
        `(202, 2, ${ago(2 * DAY)}, ${ago(2 * DAY)})`,
        `(203, 2, ${ago(250)}, ${ago(250)})`,
        // user 4: order 402 was placed an hour ago.
        `(401, 4, ${ago(2 * DAY)}, ${ago(2 * DAY)})`,
        `(402, 4, ${ago(3600)}, ${ago(3600)})`,
        // user 5: 503 and 504 tie at the limit (3): either may fill the last place.
        `(501, 5, ${ago(DAY)}, ${ago(DAY)})`,
        `(502, 5, ${ago(2 * DAY)}, ${ago(2 * DAY)})`,
        `(503, 5, ${ago(3 * DAY)}, ${ago(3 * DAY)})`,
        `(504, 5, ${ago(3 * DAY)}, ${ago(3 * DAY)})`,
      ].join(', '),
    `CREATE TABLE ${t('follows')} (followee_id int NOT NULL, follower_id bigint NOT NULL, PRIMARY KEY (followee_id, follower_id))`,
    `INSERT INTO ${t('follows')} VALUES (1, 11), (1, 12), (1, 13), (2, 21), (2, 22)`,
    `CREATE TABLE ${t('scores')} (board_id int NOT NULL, player ${text} NOT NULL, points ${float} NOT NULL, updated_at ${ts} NOT NULL, PRIMARY KEY (board_id, player))`,
    `INSERT INTO ${t('scores')} VALUES (1, 'alice', 10, ${ago(DAY)}), (1, 'bob', 1.5, ${ago(DAY)}), (1, 'carol', ${pointThree}, ${ago(DAY)}), ` +
      `(2, 'alice', 12, ${ago(30)}), (2, 'bob', 3, ${ago(DAY)})`,
    `CREATE TABLE ${t('tracks')} (list_id int NOT NULL, track_id int NOT NULL, position int NOT NULL, title ${text} NOT NULL, PRIMARY KEY (list_id, track_id))`,
    // Playlist 2's tracks were swapped after it was cached.
    `INSERT INTO ${t('tracks')} VALUES (1, 1, 1, 'Intro'), (1, 2, 2, 'Verse'), (2, 3, 2, 'Alpha'), (2, 4, 1, 'Beta')`,
    `CREATE TABLE ${t('products')} (id int PRIMARY KEY, name ${text} NOT NULL, updated_at ${ts} NOT NULL)`,
    `INSERT INTO ${t('products')} VALUES (1, 'Mug', ${ago(DAY)}), (2, 'Cap', ${ago(DAY)}), (3, 'Tee', ${ago(DAY)})`,
    `CREATE TABLE ${t('variants')} (product_id int NOT NULL, sku ${text} NOT NULL, price numeric(10,2) NOT NULL, PRIMARY KEY (product_id, sku))`,
    `INSERT INTO ${t('variants')} VALUES (1, 'M-1', 9.50), (1, 'M-2', 12.00), (2, 'C-1', 11.00), (3, 'T-1', 20.00)`,
    `CREATE TABLE ${t('posts')} (id int PRIMARY KEY)`,
    `INSERT INTO ${t('posts')} VALUES (1), (2), (3), (4)`,
    `CREATE TABLE ${t('likes')} (post_id int NOT NULL, user_id int NOT NULL, PRIMARY KEY (post_id, user_id))`,
    `INSERT INTO ${t('likes')} SELECT 1, n FROM ${t('nums')} WHERE n <= 5 UNION ALL SELECT 2, n FROM ${t('nums')} WHERE n <= 10 UNION ALL SELECT 3, n FROM ${t('nums')} WHERE n <= 10`,
  ];
}

/** What each key holds, as a Python service wrote it, with its remaining TTL (s) or none. */
type Entry =
  | { kind: 'list'; key: string; values: (string | number)[]; ttlS?: number }
  | { kind: 'set'; key: string; values: (string | number)[]; ttlS?: number }
  | { kind: 'zset'; key: string; scores: [string, number][]; ttlS?: number }
  | { kind: 'string'; key: string; value: string; ttlS?: number };

const py = (value: unknown) => JSON.stringify(value).replace(/,/g, ', ').replace(/":/g, '": ');

function entries(p: string): Entry[] {
  return [
    { kind: 'list', key: `${p}user:1:orders`, values: [103, 104, 102], ttlS: 200 },
    { kind: 'list', key: `${p}user:2:orders`, values: [202, 201], ttlS: 200 },
    { kind: 'list', key: `${p}user:3:orders`, values: [301] },
    { kind: 'list', key: `${p}user:4:orders`, values: [401] },
    { kind: 'list', key: `${p}user:5:orders`, values: [501, 502, 504], ttlS: 200 },
    { kind: 'set', key: `${p}followers:1`, values: [13, 11, 12], ttlS: 250 },
    { kind: 'set', key: `${p}followers:2`, values: [21, 22, 29], ttlS: 250 },
    { kind: 'zset', key: `${p}board:1`, scores: [['alice', 10], ['bob', 1.5], ['carol', 0.1 + 0.2]], ttlS: 50 },
    { kind: 'zset', key: `${p}board:2`, scores: [['alice', 10], ['bob', 3]], ttlS: 55 },
    { kind: 'list', key: `${p}board:3`, values: ['alice'], ttlS: 50 },
    { kind: 'string', key: `${p}playlist:1`, value: py([{ track_id: 1, title: 'Intro' }, { track_id: 2, title: 'Verse' }]), ttlS: 200 },
    { kind: 'string', key: `${p}playlist:2`, value: py([{ track_id: 3, title: 'Alpha' }, { track_id: 4, title: 'Beta' }]), ttlS: 900 },
    { kind: 'string', key: `${p}playlist:9`, value: '[]', ttlS: 200 },
    {
      kind: 'string',
      key: `${p}product:1`,
      value: py({ id: 1, name: 'Mug', variants: [{ sku: 'M-1', price: 9.5 }, { sku: 'M-2', price: 12.0 }] }).replace('12', '12.0'),
      ttlS: 200,
    },
    { kind: 'string', key: `${p}product:2`, value: py({ id: 2, name: 'Cap', variants: [{ sku: 'C-1', price: 9.5 }] }) },
    { kind: 'string', key: `${p}product:3`, value: py({ id: 3, name: 'Tee', variants: [{ sku: 'T-1', price: 18.0 }] }), ttlS: 200 },
    { kind: 'string', key: `${p}post:1:likes`, value: '5' },
    { kind: 'string', key: `${p}post:2:likes`, value: '9' },
    { kind: 'string', key: `${p}post:3:likes`, value: '4' },
    { kind: 'string', key: `${p}post:4:likes`, value: '0' },
  ];
}

/** The verdict each key must get, the same from either database. */
const EXPECTED: Record<string, string> = {
  'user:1:orders': 'match',
  'user:2:orders': 'divergent/stale-repopulated',
  'user:3:orders': 'divergent/orphan',
  'user:4:orders': 'divergent/no-ttl',
  'user:5:orders': 'match',
  'followers:1': 'match',
  'followers:2': 'divergent/stale-beyond-budget',
  'board:1': 'match',
  'board:2': 'divergent/stale-repopulated',
  'board:3': 'skipped/wrong-type',
  'playlist:1': 'match',
  'playlist:2': 'divergent/ttl-exceeds-declared',
  'playlist:9': 'match',
  'product:1': 'match',
  'product:2': 'divergent/no-ttl',
  'product:3': 'within-ttl/ttl-bounded-assumed',
  'post:1:likes': 'match',
  'post:2:likes': 'match',
  'post:3:likes': 'divergent/no-ttl',
  'post:4:likes': 'match',
};

function rulesYaml(d: Dialect, p: string, source: string, t: (name: string) => string): string[] {
  const ids = d === 'pg' ? '= ANY($1)' : 'IN (?)';
  return [
    `  - name: ${d}-orders`,
    `    pattern: "${p}user:{id}:orders"`,
    '    type: list',
    `    source: ${source}`,
    `    table: ${t('orders')}`,
    '    key: user_id',
    '    rows: many',
    '    orderBy: "created_at DESC"',
    '    limit: 3',
    '    member: id',
    '    updatedAt: updated_at',
    '    ttl: 300s',
    `  - name: ${d}-followers`,
    `    pattern: "${p}followers:{id}"`,
    '    type: set',
    `    source: ${source}`,
    `    query: "SELECT followee_id, follower_id FROM ${t('follows')} WHERE followee_id ${ids}"`,
    '    key: followee_id',
    '    rows: many',
    '    member: follower_id',
    '    ttl: 300s',
    '    maxStaleness: 60s',
    `  - name: ${d}-board`,
    `    pattern: "${p}board:{id}"`,
    '    type: zset',
    `    source: ${source}`,
    `    table: ${t('scores')}`,
    '    key: board_id',
    '    rows: many',
    '    member: player',
    '    score: points',
    '    updatedAt: updated_at',
    '    ttl: 60s',
    `  - name: ${d}-playlist`,
    `    pattern: "${p}playlist:{id}"`,
    `    source: ${source}`,
    `    table: ${t('tracks')}`,
    '    key: list_id',
    '    rows: many',
    '    orderBy: position',
    '    member: track_id',
    '    fields: [track_id, title]',
    '    ttl: 300s',
    `  - name: ${d}-product`,
    `    pattern: "${p}product:{id}"`,
    `    source: ${source}`,
    `    table: ${t('products')}`,
    '    updatedAt: updated_at',
    '    exclude: [updated_at]',
    '    ttl: 300s',
    '    children:',
    `      variants: { table: ${t('variants')}, key: product_id, orderBy: sku, member: sku, fields: [sku, price] }`,
    `  - name: ${d}-likes`,
    `    pattern: "${p}post:{id}:likes"`,
    `    source: ${source}`,
    '    codec: raw',
    '    fields: [likes]',
    `    query: "SELECT p.id, count(l.post_id) AS likes FROM ${t('posts')} p LEFT JOIN ${t('likes')} l ON l.post_id = p.id WHERE p.id ${ids} GROUP BY p.id"`,
    '    tolerance: 2',
    '    ttl: 60s',
  ];
}

describe('shadowcheck audit of collections, many-rows values, documents with children and counters', () => {
  let testDb: TestDb;
  let pgBox: Sandbox;
  let myBox: Sandbox;
  let dir: TempDir;
  let report: NdjsonReport;
  let exitCode: number | null;

  beforeAll(async () => {
    testDb = await openTestDb(3);
    [pgBox, myBox] = await Promise.all([createPgSandbox(), createMysqlSandbox()]);
    dir = await makeTempDir('sc-collections-');
    for (const [d, box] of [['pg', pgBox], ['my', myBox]] as const) {
      const t = (name: string) => box.table(name);
      await box.exec(`CREATE TABLE ${t('nums')} (n int PRIMARY KEY)`);
      await box.exec(`INSERT INTO ${t('nums')} VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 1})`).join(', ')}`);
      for (const sql of schemaSql(d, t)) await box.exec(sql);
    }
    const pipe = testDb.redis.pipeline();
    for (const d of ['pg', 'my'] as const) {
      for (const entry of entries(`${d}:`)) {
        if (entry.kind === 'list') pipe.rpush(entry.key, ...entry.values.map(String));
        else if (entry.kind === 'set') pipe.sadd(entry.key, ...entry.values.map(String));
        // redis-py sends a float's repr: 0.30000000000000004, 1.5, 10.0.
        else if (entry.kind === 'zset') pipe.zadd(entry.key, ...entry.scores.flatMap(([member, score]) => [Number.isInteger(score) ? `${score}.0` : String(score), member]));
        else pipe.set(entry.key, entry.value);
        if (entry.ttlS !== undefined) pipe.expire(entry.key, entry.ttlS);
      }
    }
    await pipe.exec();
    const rules = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${pgBox.url}" }`,
        `  shop: { kind: mysql, url: "${myBox.url}" }`,
        'families:',
        ...rulesYaml('pg', 'pg:', 'main', (n) => pgBox.table(n)),
        ...rulesYaml('my', 'my:', 'shop', (n) => myBox.table(n)),
      ].join('\n'),
    );
    const result = await runCli(['audit', '--rules', rules, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0'], {}, 120_000);
    exitCode = result.code;
    report = parseRunNdjson(result);
  }, 180_000);

  afterAll(async () => {
    await testDb?.close();
    await Promise.all([pgBox?.drop(), myBox?.drop()]);
    await dir?.remove();
  });

  for (const d of ['pg', 'my'] as const) {
    it(`judges every key as SEMANTICS.md reads for collections (${d === 'pg' ? 'PostgreSQL' : 'MariaDB'})`, () => {
      const got = Object.fromEntries(Object.keys(EXPECTED).map((key) => [key, label(report.byKey.get(`${d}:${key}`) ?? { verdict: 'not reported' })]));
      expect(got).toEqual(EXPECTED);
    });

    it(`names what changed, not indexes (${d})`, () => {
      const changes = (key: string) => (report.byKey.get(`${d}:${key}`)?.diff ?? []).map((entry) => `${entry.path}: ${(entry as { change?: string }).change ?? `${String(entry.cache)} → ${String(entry.source)}`}`);
      expect(changes('user:2:orders')).toEqual(['members: +203']);
      expect(changes('user:4:orders')).toEqual(['members: +402']);
      expect(changes('followers:2')).toEqual(['members: -29']);
      expect(changes('board:2')).toEqual(['scores[alice]: 10 → 12']);
      expect(changes('playlist:2').join('\n')).toMatch(/^members \(order\): /);
      expect(changes('product:2')).toHaveLength(1);
      expect(changes('product:2')[0]).toMatch(/^variants\[C-1\]\.price: 9\.5 → 11(\.00)?$/);
      expect(changes('post:3:likes')).toEqual(['likes: 4 → 10']);
    });
  }

  it('fails the gate on the planted bugs', () => {
    expect(exitCode).toBe(1);
  });
});
