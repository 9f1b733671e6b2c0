/**
 * A `kind: module` source end to end: the built CLI audits Redis keys against rows served by an
 * HTTP JSON API (served by this test), through the example loader of rules/examples.
 *
 * The loader is used the way a user would: copied into a project of theirs (a temp dir with
 * `"type": "module"` and shadowcheck in its node_modules, linked to this repository), named in the
 * rules file by a path relative to the rules file (`./loaders/...`), while the CLI runs from the
 * repository root, so a path resolved against the working directory would not find it. The API's
 * url, with a password, comes from an environment variable.
 *
 * Isolation: logical database 15 of a private redis-server (only `mla:` keys), a temp dir, a server on a free port;
 * all removed afterwards.
 */
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { freePort, openTestDb, type TestDb } from '../helpers/redis.js';
import { startJsonApi, type JsonApi } from './json-api-server.js';

const REDIS_DB = 15;
const PREFIX = 'mla:';
const URL_VARIABLE = 'SC_MODULE_AUDIT_API_URL';

/** Rows as the API writes them: a bigint past 2^53 and a decimal keep their exact text. */
const ROWS = [
  { id: '1', json: '{"id":1,"name":"alpha","price":19.90,"big":9007199254740993,"updated_at":"2024-05-01T10:00:00.123Z"}' },
  { id: '2', json: '{"id":2,"name":"beta","price":5.00,"big":42,"updated_at":"2024-05-02T00:00:00.000Z"}' },
];

/** What the application cached: the same text for id 1, an old name for id 2, a deleted row 404. */
const CACHED: { key: string; value: string; ttlSeconds?: number }[] = [
  { key: `${PREFIX}item:1`, value: ROWS[0]?.json as string, ttlSeconds: 200 },
  { key: `${PREFIX}item:2`, value: '{"id":2,"name":"beta (old)","price":5,"big":42,"updated_at":"2024-05-02T00:00:00.000Z"}' },
  { key: `${PREFIX}item:404`, value: '{"id":404,"name":"deleted","price":1,"big":1,"updated_at":"2024-05-01T00:00:00.000Z"}' },
];

function rules(moduleLine: string): string {
  return [
    'version: 1',
    'sources:',
    `  api: { kind: module, ${moduleLine}, url: "\${${URL_VARIABLE}}" }`,
    'families:',
    '  - name: module-items',
    `    pattern: "${PREFIX}item:{id}"`,
    '    source: api',
    '    table: items',
    '    key: id',
    '    updatedAt: updated_at',
    '    ttl: 300s',
    '',
  ].join('\n');
}

describe('shadowcheck audit with a module source (the example HTTP JSON loader)', () => {
  let testDb: TestDb;
  let api: JsonApi;
  let project: TempDir;
  let rulesFile: string;
  let result: CliResult;
  let report: NdjsonReport;

  const audit = (file: string, url: string) =>
    runCli(['audit', '--rules', file, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0'], { [URL_VARIABLE]: url });

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep([PREFIX]);
    api = await startJsonApi({ rows: ROWS.map((r) => ({ key: { id: r.id }, json: r.json })), dates: ['updated_at'] });

    // A user's project: the example copied in, shadowcheck installed (a link to this repository).
    project = await makeTempDir('sc-module-audit-');
    await project.write('package.json', '{"type":"module","private":true}');
    await mkdir(project.file('node_modules'));
    await symlink(ROOT, project.file('node_modules/shadowcheck'), 'dir');
    await mkdir(project.file('loaders'));
    await copyFile(`${ROOT}/rules/examples/http-json-loader.js`, project.file('loaders/http-json-loader.js'));
    rulesFile = await project.write('rules.yaml', rules('module: ./loaders/http-json-loader.js'));

    const pipe = testDb.redis.pipeline();
    for (const entry of CACHED) {
      if (entry.ttlSeconds === undefined) pipe.set(entry.key, entry.value);
      else pipe.set(entry.key, entry.value, 'EX', entry.ttlSeconds);
    }
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];

    result = await audit(rulesFile, api.url);
    report = parseRunNdjson(result);
  }, 120_000);

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep([PREFIX]);
      await testDb.close();
    }
    await api?.close();
    await project?.remove();
  });

  it('judges every key through the loader module and fails the gate on the divergent ones (exit 1)', () => {
    expect(result.code, result.stderr).toBe(1);
    expect(Object.fromEntries(report.keys.map((line) => [line.key, label(line)]))).toEqual({
      [`${PREFIX}item:1`]: 'match',
      [`${PREFIX}item:2`]: 'divergent/no-ttl',
      [`${PREFIX}item:404`]: 'divergent/orphan',
    });
    // The family was checked (a lookup of no ids) and its keys loaded from the `items` resource.
    expect(api.lookups.get('items')).toBeGreaterThanOrEqual(2);
  });

  it('matches exact numbers and timestamps: a bigint past 2^53, a decimal with its scale, an ISO date', () => {
    expect(report.byKey.get(`${PREFIX}item:1`)?.diff).toEqual([]);
  });

  it('names the one stale field of the planted stale value', () => {
    expect(report.byKey.get(`${PREFIX}item:2`)?.diff).toEqual([{ path: 'name', cache: 'beta (old)', source: 'beta' }]);
  });

  it('rules validate accepts the rules file', async () => {
    const validated = await runCli(['rules', 'validate', rulesFile], { [URL_VARIABLE]: api.url });
    expect(validated.code, validated.stderr).toBe(0);
  });

  it('an API that is down: exit 3 naming the source with the password masked, no report, no stack trace', async () => {
    const closed = `http://shadow:s3cret-pw@127.0.0.1:${await freePort()}/api`;
    const down = await audit(rulesFile, closed);
    expect(down.code).toBe(3);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain('cannot connect to source "api"');
    expect(down.stderr).toContain('connection refused');
    expect(down.stderr).toContain('shadow:***@127.0.0.1');
    expect(down.stderr).not.toContain('s3cret');
    expect(down.stderr).not.toMatch(STACK_TRACE);
  });

  it('a module path that does not exist: exit 2 naming the path resolved against the rules file', async () => {
    const file = await project.write('rules-missing.yaml', rules('module: ./loaders/no-such-loader.js'));
    const missing = await audit(file, api.url);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`source "api": loader module ${project.file('loaders/no-such-loader.js')} does not exist`);
    expect(missing.stderr).not.toMatch(STACK_TRACE);
  });

  it('a module with a syntax error: exit 2 saying so', async () => {
    await project.write('loaders/broken.js', 'export default async function (spec {\n');
    const file = await project.write('rules-broken.yaml', rules('module: ./loaders/broken.js'));
    const broken = await audit(file, api.url);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`loader module ${project.file('loaders/broken.js')} has a syntax error`);
    expect(broken.stderr).not.toMatch(STACK_TRACE);
  });
});
