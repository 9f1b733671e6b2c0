/**
 * Issue 17 review, through the CLI on a private Redis, PostgreSQL and MariaDB: verdicts a reader
 * must be able to trust.
 *
 * - a SET of tags read through a join that fans out (a tag on two of a post's revisions): SADD
 *   kept it once, so the SET matches;
 * - a LIST of the first 2 people by name: MariaDB's utf8mb4_general_ci ranks `Alice`, `alice`,
 *   `alice` all first, so a list of the two `alice` rows matches there; PostgreSQL ("C") ranks
 *   `Alice` first, so the same list misses it;
 * - an address with a tolerance of 5 on its visit counter: a zip code 10001 cached for 10002 is a
 *   difference, while the counter lagging by 3 is not (`tolerance: 5` for the whole family is a
 *   rules error: it would let the zip code lag too).
 *
 * Values as a Python service writes them (redis-py sadd/rpush of ints, json.dumps).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

type Dialect = 'pg' | 'my';

function schemaSql(d: Dialect, t: (name: string) => string): string[] {
  const name = d === 'pg' ? 'text COLLATE "C"' : 'VARCHAR(20) COLLATE utf8mb4_general_ci';
  const text = d === 'pg' ? 'text' : 'VARCHAR(20)';
  return [
    `CREATE TABLE ${t('revision_tags')} (post_id int NOT NULL, revision int NOT NULL, tag ${text} NOT NULL)`,
    `INSERT INTO ${t('revision_tags')} VALUES (1, 1, 'go'), (1, 2, 'go'), (1, 2, 'sql')`,
    `CREATE TABLE ${t('people')} (id int PRIMARY KEY, team_id int NOT NULL, name ${name} NOT NULL)`,
    `INSERT INTO ${t('people')} VALUES (1, 7, 'Alice'), (2, 7, 'alice'), (3, 7, 'alice')`,
    `CREATE TABLE ${t('addresses')} (id int PRIMARY KEY, zip ${text} NOT NULL, visits int NOT NULL)`,
    `INSERT INTO ${t('addresses')} VALUES (1, '10002', 40), (2, '10002', 40)`,
  ];
}

function rulesYaml(d: Dialect, source: string, t: (name: string) => string): string[] {
  const ids = d === 'pg' ? '= ANY($1)' : 'IN (?)';
  return [
    `  - { name: ${d}-tags, pattern: "${d}:post:{id}:tags", type: set, source: ${source}, rows: many, member: tag, key: post_id, ttl: 300s,`,
    `      query: "SELECT post_id, tag FROM ${t('revision_tags')} WHERE post_id ${ids}" }`,
    `  - { name: ${d}-team, pattern: "${d}:team:{id}:first", type: list, source: ${source}, table: ${t('people')}, key: team_id, rows: many,`,
    '      orderBy: name, limit: 2, member: id, ttl: 300s }',
    `  - { name: ${d}-address, pattern: "${d}:address:{id}", source: ${source}, table: ${t('addresses')}, fields: [zip, visits], tolerance: { visits: 5 }, ttl: 300s }`,
  ];
}

const EXPECTED: Record<Dialect, Record<string, string>> = {
  pg: { 'post:1:tags': 'match', 'team:7:first': 'within-ttl/ttl-bounded-assumed', 'address:1': 'within-ttl/ttl-bounded-assumed', 'address:2': 'match' },
  my: { 'post:1:tags': 'match', 'team:7:first': 'match', 'address:1': 'within-ttl/ttl-bounded-assumed', 'address:2': 'match' },
};

describe('shadowcheck audit: collection verdicts that must not mislead', () => {
  let testDb: TestDb;
  let boxes: Record<Dialect, Sandbox>;
  let dir: TempDir;
  let report: NdjsonReport;

  beforeAll(async () => {
    testDb = await openTestDb(3);
    const [pg, my] = await Promise.all([createPgSandbox(), createMysqlSandbox()]);
    boxes = { pg, my };
    dir = await makeTempDir('sc-collections-trust-');
    const pipe = testDb.redis.pipeline();
    for (const d of ['pg', 'my'] as const) {
      for (const sql of schemaSql(d, (n) => boxes[d].table(n))) await boxes[d].exec(sql);
      pipe.sadd(`${d}:post:1:tags`, 'sql', 'go').expire(`${d}:post:1:tags`, 200);
      pipe.rpush(`${d}:team:7:first`, '3', '2').expire(`${d}:team:7:first`, 200);
      pipe.set(`${d}:address:1`, '{"zip": "10001", "visits": 40}', 'EX', 200);
      pipe.set(`${d}:address:2`, '{"zip": "10002", "visits": 37}', 'EX', 200);
    }
    await pipe.exec();
    const rules = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${pg.url}" }`,
        `  shop: { kind: mysql, url: "${my.url}" }`,
        'families:',
        ...rulesYaml('pg', 'main', (n) => pg.table(n)),
        ...rulesYaml('my', 'shop', (n) => my.table(n)),
      ].join('\n'),
    );
    const result = await runCli(['audit', '--rules', rules, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0'], {}, 120_000);
    report = parseRunNdjson(result);
  }, 180_000);

  afterAll(async () => {
    await testDb?.close();
    await Promise.all([boxes?.pg?.drop(), boxes?.my?.drop()]);
    await dir?.remove();
  });

  for (const d of ['pg', 'my'] as const) {
    it(`judges each key as its database ranks and types it (${d === 'pg' ? 'PostgreSQL' : 'MariaDB'})`, () => {
      const got = Object.fromEntries(Object.keys(EXPECTED[d]).map((key) => [key, label(report.byKey.get(`${d}:${key}`) ?? { verdict: 'not reported' })]));
      expect(got).toEqual(EXPECTED[d]);
    });
  }

  it('names the member PostgreSQL ranks first and the zip that differs', () => {
    const changes = (key: string) => (report.byKey.get(key)?.diff ?? []).map((e) => `${e.path}: ${(e as { change?: string }).change ?? `${String(e.cache)} → ${String(e.source)}`}`);
    expect(changes('pg:team:7:first')).toEqual(['members: +1, -2 (one tie too many at the limit)']);
    expect(changes('my:address:1')).toEqual(['zip: 10001 → 10002']);
  });
});
