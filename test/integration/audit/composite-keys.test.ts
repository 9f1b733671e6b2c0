/**
 * Composite keys end to end: `t:{tenant}:user:{id}` over a PostgreSQL table keyed by
 * (tenant_id, id) in table form, and `r:{region}:sku:{sku}` hashes over a MariaDB query with row
 * constructors. The same id under two tenants holds different rows, so a loader that matched on
 * one column would get the verdicts wrong. Audited by the built CLI; `explain` shows the parts.
 *
 * Isolation: logical database 7 of a private redis-server (only `ck:` keys), a throwaway `sc_<hex>` schema and
 * database, a temp dir for the rules file; all removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 7;
const PREFIX = 'ck:';

describe('shadowcheck audit with composite keys', () => {
  let testDb: TestDb;
  let pgBox: Sandbox;
  let myBox: Sandbox;
  let dir: TempDir;
  let rulesFile: string;
  let report: NdjsonReport;
  let stderr = '';

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep([PREFIX]);
    [pgBox, myBox] = await Promise.all([createPgSandbox(), createMysqlSandbox()]);
    dir = await makeTempDir('sc-composite-');

    const users = pgBox.table('users');
    await pgBox.exec(
      `CREATE TABLE ${users} (tenant_id text, id integer, name text, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 day', PRIMARY KEY (tenant_id, id))`,
    );
    await pgBox.exec(`INSERT INTO ${users} VALUES ('acme', 1, 'Ada'), ('globex', 1, 'Cy')`);
    // Renamed a minute ago: the one recent write, which --recent must find by its composite id.
    await pgBox.exec(`INSERT INTO ${users} VALUES ('acme', 2, 'Bob', now() - interval '1 minute')`);
    await myBox.exec('CREATE TABLE stock (region VARCHAR(8), sku VARCHAR(16), qty INT, PRIMARY KEY (region, sku))');
    await myBox.exec("INSERT INTO stock VALUES ('eu', 'A-1', 5), ('us', 'A-1', 7)");

    const r = testDb.redis;
    await r.set(`${PREFIX}t:acme:user:1`, JSON.stringify({ name: 'Ada' }), 'EX', 200);
    await r.set(`${PREFIX}t:globex:user:1`, JSON.stringify({ name: 'Cy' }), 'EX', 200);
    await r.set(`${PREFIX}t:acme:user:2`, JSON.stringify({ name: 'Robert' })); // stale, no TTL
    await r.set(`${PREFIX}t:initech:user:1`, JSON.stringify({ name: 'Ada' })); // no such row (acme has id 1), no TTL
    await r.hset(`${PREFIX}r:eu:sku:A-1`, { qty: '5' });
    await r.expire(`${PREFIX}r:eu:sku:A-1`, 200);
    await r.hset(`${PREFIX}r:us:sku:A-1`, { qty: '5' }); // the EU figure under the US key, no TTL
    // The same table keyed by id alone, as if the tenant were forgotten: id 1 has two rows.
    await r.set(`${PREFIX}one:1`, JSON.stringify({ name: 'Ada' }), 'EX', 200);
    await r.set(`${PREFIX}one:2`, JSON.stringify({ name: 'Bob' }), 'EX', 200);

    rulesFile = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${pgBox.url}" }`,
        `  shop: { kind: mysql, url: "${myBox.url}" }`,
        'families:',
        '  - name: tenant-user',
        `    pattern: "${PREFIX}t:{tenant}:user:{id}"`,
        '    source: main',
        `    table: ${users}`,
        '    key: [tenant_id, id]',
        '    fields: [name]',
        '    updatedAt: updated_at',
        '    ttl: 300s',
        '  - name: user-by-id-alone',
        `    pattern: "${PREFIX}one:{id}"`,
        '    source: main',
        `    table: ${users}`,
        '    key: id',
        '    fields: [name]',
        '    ttl: 300s',
        '  - name: regional-stock',
        `    pattern: "${PREFIX}r:{region}:sku:{sku}"`,
        '    type: hash',
        '    source: shop',
        '    query: "SELECT region, sku, qty FROM stock WHERE (region, sku) IN (?)"',
        '    fields: [qty]',
        '    ttl: 300s',
      ].join('\n'),
    );
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0']);
    stderr = result.stderr;
    report = parseRunNdjson(result);
  }, 120_000);

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep([PREFIX]);
      await testDb.close();
    }
    await Promise.all([pgBox?.drop(), myBox?.drop()]);
    await dir?.remove();
  });

  it('judges every key against the row its whole composite key names', () => {
    const got = Object.fromEntries([...report.byKey].map(([key, line]) => [key, label(line)]));
    expect(got, stderr).toEqual({
      [`${PREFIX}t:acme:user:1`]: 'match',
      [`${PREFIX}t:globex:user:1`]: 'match',
      [`${PREFIX}t:acme:user:2`]: 'divergent/no-ttl',
      [`${PREFIX}t:initech:user:1`]: 'divergent/orphan',
      [`${PREFIX}r:eu:sku:A-1`]: 'match',
      [`${PREFIX}r:us:sku:A-1`]: 'divergent/no-ttl',
      [`${PREFIX}one:1`]: 'error/source-error',
      [`${PREFIX}one:2`]: 'match',
    });
    expect(report.byKey.get(`${PREFIX}one:1`)?.detail).toContain('more than one row for this id: the key column id does not identify one row');
    expect(report.byKey.get(`${PREFIX}r:us:sku:A-1`)?.diff).toEqual([{ path: 'qty', cache: '5', source: 7 }]);
  });

  it('--recent finds the recently changed row by its composite id and judges its key', async () => {
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', testDb.url, '--family', 'tenant-user', '--sample', '1', '--seed', '1', '--recent', '10m', '--format', 'json', '--confirm-delay', '0']);
    const report = JSON.parse(result.stdout) as { recent?: { summary: { sampled: number } }; findings: { key: string; population?: string; verdict: string }[] };
    expect(report.recent?.summary.sampled, result.stderr).toBe(1);
    expect(report.findings.filter((f) => f.population === 'recent')).toEqual([
      expect.objectContaining({ key: `${PREFIX}t:acme:user:2`, verdict: 'divergent', population: 'recent' }),
    ]);
  });

  it('explain shows the parts the key was split into and the row they load', async () => {
    const result = await runCli(['explain', `${PREFIX}t:acme:user:2`, '--rules', rulesFile, '--redis', testDb.url]);
    expect(result.stdout, result.stderr).toContain('tenant, id = ["acme","2"]');
    expect(result.stdout).toContain('Robert');
    expect(result.stdout).toContain('Bob');
  });
});
