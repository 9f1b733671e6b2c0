import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// This file owns logical database 9 of a private redis-server (keys under gate:) and a throwaway PostgreSQL schema.
const REDIS_DB = 9;
const PREFIX = 'gate:item:';

let db: TestDb;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

interface JsonReport {
  summary: { divergent: number; consistency: number; consistencyLowerBound: number };
  findings: { key: string; verdict: string; reason?: string }[];
  gate: { passed: boolean; failures: string[]; baseline?: { file: string; knownDivergent: number; newDivergent: number } };
}

async function audit(args: string[]) {
  const result = await runCli(['audit', '--rules', rules, '--redis', db.url, '--all', '--format', 'json', '--confirm-delay', '0', ...args]);
  const report = result.stdout === '' ? undefined : (JSON.parse(result.stdout) as JsonReport);
  return { result, report };
}

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep([PREFIX]);
  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int PRIMARY KEY, name text NOT NULL)`);
  await pg.exec(`INSERT INTO ${pg.table('items')} SELECT i, 'item ' || i FROM generate_series(1, 20) AS i`);
  for (let id = 1; id <= 20; id++) await db.redis.set(`${PREFIX}${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 200);
  // Known debt: two stale entries without expiry.
  await db.redis.set(`${PREFIX}1`, JSON.stringify({ id: 1, name: 'old 1' }));
  await db.redis.set(`${PREFIX}2`, JSON.stringify({ id: 2, name: 'old 2' }));
  dir = await makeTempDir('shadowcheck-gate-');
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
    ttl: 300s
`,
  );
});

afterAll(async () => {
  await db?.sweep([PREFIX]);
  await db?.close();
  await pg?.drop();
  await dir?.remove();
});

describe('deploy gate', () => {
  it('fails on divergent keys (exit 1) and says which threshold failed', async () => {
    const { result, report } = await audit(['--output', dir.file('baseline.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const written = (await import('node:fs/promises')).readFile(dir.file('baseline.json'), 'utf8');
    const baseline = JSON.parse(await written) as JsonReport;
    expect(report).toBeUndefined();
    expect(baseline.gate).toEqual({ passed: false, failures: ['divergent 2 > max 0'] });
    expect(baseline.findings.map((f) => `${f.key} ${f.reason}`).sort()).toEqual([`${PREFIX}1 no-ttl`, `${PREFIX}2 no-ttl`]);
  });

  it('passes with --max-divergent at the count and with --fail-on none', async () => {
    expect((await audit(['--max-divergent', '2'])).result.code).toBe(0);
    expect((await audit(['--max-divergent', '1'])).result.code).toBe(1);
    expect((await audit(['--fail-on', 'none'])).result.code).toBe(0);
  });

  it('gates on --min-consistency: 18 of 20 is 90%', async () => {
    const pass = await audit(['--fail-on', 'none', '--min-consistency', '0.9']);
    expect(pass.result.code).toBe(0);
    const fail = await audit(['--fail-on', 'none', '--min-consistency', '95%']);
    expect(fail.result.code).toBe(1);
    expect(fail.report?.gate.failures).toContain('consistency 90% < min 95%');
  });

  it('reports the honest lower bound next to the consistency', async () => {
    const { report } = await audit(['--fail-on', 'none']);
    expect(report?.summary.consistency).toBe(0.9);
    expect(report?.summary.consistencyLowerBound).toBeGreaterThan(0.7);
    expect(report?.summary.consistencyLowerBound).toBeLessThan(0.9);
  });

  it('with --baseline, ignores the known divergences (exit 0)', async () => {
    const { result, report } = await audit(['--baseline', dir.file('baseline.json')]);
    expect(result.code).toBe(0);
    expect(report?.gate).toMatchObject({ passed: true, baseline: { knownDivergent: 2, newDivergent: 0 } });
    expect(report?.summary.divergent).toBe(2);
  });

  it('with --baseline, fails on a new divergent key, and on a known key with a new reason', async () => {
    await db.redis.set(`${PREFIX}3`, JSON.stringify({ id: 3, name: 'old 3' })); // new: no-ttl
    await db.redis.pexpire(`${PREFIX}1`, 3_600_000); // known key, now ttl-exceeds-declared
    try {
      const { result, report } = await audit(['--baseline', dir.file('baseline.json')]);
      expect(result.code).toBe(1);
      expect(report?.gate.baseline).toMatchObject({ knownDivergent: 1, newDivergent: 2 });
      expect(report?.gate.failures).toEqual(['new divergent 2 > max 0 (1 known in the baseline)']);
    } finally {
      await db.redis.set(`${PREFIX}3`, JSON.stringify({ id: 3, name: 'item 3' }), 'EX', 200);
      await db.redis.persist(`${PREFIX}1`);
    }
  });

  it('refuses a baseline that is not a shadowcheck JSON report (exit 2, no stack trace)', async () => {
    const bogus = await dir.write('bogus.json', '{"hello": 1}');
    const { result } = await audit(['--baseline', bogus]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bogus.json');
    expect(result.stderr).toContain('shadowcheck JSON report');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});
