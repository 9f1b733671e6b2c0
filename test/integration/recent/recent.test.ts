import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// This file owns logical database 12 of a private redis-server
// (keys under recent:) and a throwaway PostgreSQL schema.
const REDIS_DB = 12;
const PREFIX = 'recent:item:';
const KEYS = 100_000;
const PLANTED = 77_777;

let db: TestDb;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

interface Report {
  summary: { sampled: number; divergent: number };
  recent?: { withinMs: number; summary: { sampled: number; divergent: number; match: number } };
  findings: { key: string; verdict: string; reason?: string; population?: string }[];
}

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep([PREFIX]);
  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)`);
  await pg.exec(`CREATE INDEX ON ${pg.table('items')} (updated_at)`);
  await pg.exec(`INSERT INTO ${pg.table('items')} SELECT i, 'item ' || i, now() - interval '1 day' FROM generate_series(1, ${KEYS}) AS i`);
  // The missed invalidation: the row changed 30 s ago, the cache kept the old name for its whole hour.
  await pg.exec(`UPDATE ${pg.table('items')} SET name = 'renamed', updated_at = now() - interval '30 seconds' WHERE id = ${PLANTED}`);
  // A recent write whose invalidation worked: the cache holds the new value.
  await pg.exec(`UPDATE ${pg.table('items')} SET name = 'fresh', updated_at = now() - interval '20 seconds' WHERE id = 5`);
  for (let from = 1; from <= KEYS; from += 10_000) {
    const pipe = db.redis.pipeline();
    for (let id = from; id < from + 10_000; id++) {
      const name = id === 5 ? 'fresh' : `item ${id}`;
      pipe.set(`${PREFIX}${id}`, JSON.stringify({ id, name }), 'EX', 3000);
    }
    await pipe.exec();
  }
  dir = await makeTempDir('shadowcheck-recent-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "${PREFIX}{id}"
    source: main
    table: ${pg.table('items')}
    fields: [name]
    updatedAt: updated_at
    ttl: 1h
    maxStaleness: 1m
`,
  );
}, 120_000);

afterAll(async () => {
  await db?.sweep([PREFIX]);
  await db?.close();
  await pg?.drop();
  await dir?.remove();
});

async function audit(args: string[]): Promise<{ code: number | null; report: Report }> {
  const result = await runCli(['audit', '--rules', rules, '--redis', db.url, '--format', 'json', '--confirm-delay', '0', ...args]);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

describe('--recent: targeted sampling of recent writes', () => {
  it(`finds the one missed invalidation among ${KEYS} keys, which a 1% random sample holds with probability 1%`, async () => {
    const { code, report } = await audit(['--sample', String(KEYS / 100), '--seed', '3', '--recent', '5m']);
    expect(report.summary.sampled).toBe(KEYS / 100);
    expect(report.recent?.withinMs).toBe(300_000);
    // Exactly the two rows changed in the window were looked at: the missed one and the healthy one.
    expect(report.recent?.summary).toMatchObject({ sampled: 2, divergent: 1, match: 1 });
    const planted = report.findings.filter((f) => f.key === `${PREFIX}${PLANTED}` && f.population === 'recent');
    expect(planted).toEqual([expect.objectContaining({ verdict: 'divergent', reason: 'stale-beyond-budget', population: 'recent' })]);
    expect(code).toBe(1);
  });

  it('without --recent the same 1% sample reports no recent population', async () => {
    const { report } = await audit(['--sample', String(KEYS / 100), '--seed', '3']);
    expect(report.recent).toBeUndefined();
    expect(report.summary.sampled).toBe(KEYS / 100);
  });
});
