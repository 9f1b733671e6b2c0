/**
 * Systematic differences said as such, through the built CLI on real Redis and PostgreSQL: a
 * family whose every cached `day` is an ISO timestamp (09:30 UTC) of the date a `text` column
 * holds gets one `systematic` warning, first, in every format, the gate failure names the
 * suspected rules problem, and `explain` gives that hint instead of a race. A family with 2 stale
 * keys among 100 gets none. Verdicts stay those of SEMANTICS.md (stale-repopulated here: every
 * entry was written after its row's updated_at).
 *
 * Isolation: logical database 8 of a private redis-server (only keys under this file's prefixes are written and
 * removed), a throwaway `sc_<hex>` PostgreSQL schema, a temp dir for the rules file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 8;
const PREFIXES = ['sysday:', 'sysplan:'];
const DAYS = 40;
const PLANS = 100;
const STALE_PLANS = [17, 61];

const dayOf = (id: number) => `2024-03-${String((id % 28) + 1).padStart(2, '0')}`;

function rulesYaml(sandbox: Sandbox): string {
  return [
    'version: 1',
    'sources:',
    `  main: { kind: postgres, url: "${sandbox.url}" }`,
    'families:',
    '  - name: events',
    '    pattern: "sysday:{id}"',
    '    source: main',
    `    table: ${sandbox.table('events')}`,
    '    key: id',
    '    fields: [day]',
    '    updatedAt: updated_at',
    '    ttl: 300s',
    '  - name: plans',
    '    pattern: "sysplan:{id}"',
    '    source: main',
    `    table: ${sandbox.table('plans')}`,
    '    key: id',
    '    fields: [plan]',
    '    updatedAt: updated_at',
    '    ttl: 300s',
    '',
  ].join('\n');
}

interface JsonReport {
  warnings?: { kind: string; family: string; field?: string; message: string }[];
  families: { name: string; divergent: number; match: number; byReason: Record<string, number> }[];
  findings: { key: string; verdict: string; reason?: string }[];
  gate: { passed: boolean; failures: string[] };
}

describe('shadowcheck audit: systematic differences', () => {
  let testDb: TestDb;
  let sandbox: Sandbox;
  let dir: TempDir;
  let rulesFile: string;

  const cli = (args: readonly string[]): Promise<CliResult> => runCli([...args, '--rules', rulesFile, '--redis', testDb.url], {}, 60_000);
  const audit = (format: string) => cli(['audit', '--all', '--confirm-delay', '0', '--format', format]);

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep(PREFIXES);
    sandbox = await createPgSandbox();
    dir = await makeTempDir('sc-systematic-');
    const events = sandbox.table('events');
    const plans = sandbox.table('plans');
    // `day` is text holding a date: comparing it as text keeps the timestamp form a difference.
    await sandbox.exec(`CREATE TABLE ${events} (id integer PRIMARY KEY, day text NOT NULL, updated_at timestamptz NOT NULL)`);
    await sandbox.exec(
      `INSERT INTO ${events} SELECT g, to_char(date '2024-03-01' + (g % 28), 'YYYY-MM-DD'), now() - interval '1 hour' FROM generate_series(1, ${DAYS}) g`,
    );
    await sandbox.exec(`CREATE TABLE ${plans} (id integer PRIMARY KEY, plan text NOT NULL, updated_at timestamptz NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${plans} SELECT g, 'pro', now() - interval '1 hour' FROM generate_series(1, ${PLANS}) g`);
    rulesFile = await dir.write('rules.yaml', rulesYaml(sandbox));

    const pipe = testDb.redis.pipeline();
    for (let id = 1; id <= DAYS; id++) pipe.set(`sysday:${id}`, JSON.stringify({ id, day: `${dayOf(id)}T09:30:00.000Z` }), 'EX', 300);
    for (let id = 1; id <= PLANS; id++) {
      pipe.set(`sysplan:${id}`, JSON.stringify({ id, plan: STALE_PLANS.includes(id) ? 'basic' : 'pro' }), 'EX', 300);
    }
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  });

  afterAll(async () => {
    await testDb?.sweep(PREFIXES);
    await testDb?.close();
    await sandbox?.drop();
    await dir?.remove();
  });

  it('json: one systematic warning, for the family whose every key differs the same way; verdicts unchanged; the gate names the rules problem', async () => {
    const result = await audit('json');
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.warnings).toEqual([
      {
        kind: 'systematic',
        family: 'events',
        field: 'day',
        message: expect.stringMatching(/^field `day` differs on 40\/40 differing keys the same way \(40 judged\): cache ISO timestamp, source date; likely a rules or normalization problem, not stale data/),
      },
    ]);
    // No value in the message: forms only.
    expect(report.warnings?.[0]?.message).not.toMatch(/2024|09:30/);
    // The verdicts are SEMANTICS.md's: the warning explains them, it does not change them.
    const byName = new Map(report.families.map((f) => [f.name, f]));
    expect(byName.get('events')).toMatchObject({ divergent: DAYS, match: 0 });
    expect(byName.get('events')?.byReason['stale-repopulated']).toBe(DAYS);
    expect(byName.get('plans')).toMatchObject({ divergent: STALE_PLANS.length, match: PLANS - STALE_PLANS.length });
    expect(report.findings.filter((f) => f.key.startsWith('sysplan:')).map(label)).toEqual(STALE_PLANS.map(() => 'divergent/stale-repopulated'));
    expect(report.gate.passed).toBe(false);
    expect(report.gate.failures[0]).toMatch(/^divergent 42 > max 0 \(suspected rules problem in family events, not stale data: field `day` differs on 40\/40/);
    expect(report.gate.failures.join('\n')).not.toMatch(/family plans/);
  });

  it('ndjson, table, markdown and junit show the warning first, and only for that family', async () => {
    const ndjson = parseRunNdjson(await audit('ndjson'));
    const summary = ndjson.summary as unknown as { warnings?: { family: string; field?: string }[] };
    expect(summary.warnings?.map((w) => [w.family, w.field])).toEqual([['events', 'day']]);

    const table = (await audit('table')).stdout;
    expect(table.split('\n').slice(2, 4)).toEqual(['warnings: 1', expect.stringMatching(/^ {2}⚠ systematic events: field `day` differs on 40\/40/)]);
    expect(table.indexOf('warnings: 1')).toBeLessThan(table.indexOf('TOTAL'));

    const markdown = (await audit('markdown')).stdout;
    expect(markdown.split('\n\n')[1]).toMatch(/^> ⚠️ \*\*Warnings \(1\):\*\*[^]*\*\*systematic\*\* in `events`/);

    const junit = (await audit('junit')).stdout;
    const firstSuite = /<testsuite [^>]*name="([^"]+)"/.exec(junit)?.[1];
    expect(firstSuite).toBe('shadowcheck warnings');
    expect(junit).toMatch(/<testcase classname="events" name="systematic: day"[^>]*>\s*<skipped message="events: field `day` differs on 40\/40/);
  });

  it('the 2%-stale family alone gets no warning', async () => {
    const result = await cli(['audit', '--all', '--confirm-delay', '0', '--format', 'json', '--family', 'plans']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report).not.toHaveProperty('warnings');
    expect(report.gate.failures).toEqual(['divergent 2 > max 0']);
  });

  it('explain gives the transformation hint for a systematic key, and still the race for a stale one', async () => {
    const day = await cli(['explain', 'sysday:3']);
    expect(day.stdout, day.stderr).toContain('verdict: divergent/stale-repopulated');
    expect(day.stdout).toMatch(/^ {2}likely cause: field `day`: cache ISO timestamp, source date: the same value in another form, likely a rules or normalization problem, not stale data/m);
    expect(day.stdout).not.toContain('read-populates-stale race');

    const plan = await cli(['explain', `sysplan:${STALE_PLANS[0]}`]);
    expect(plan.stdout, plan.stderr).toMatch(/^ {2}likely cause: read-populates-stale race/m);
  });
});
