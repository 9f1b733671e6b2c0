/**
 * A sharded run one of whose shards had a whole batch fail at the source: the shard's report
 * carries it (`sourceFailures`), and `merge` fails the merged gate with exit 4 and the very message
 * the unsharded run's gate gives, whatever the error ratio. Real Redis and PostgreSQL, the built CLI.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOfKey } from '../../../src/core/shard.js';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// Logical database 1 of a private redis-server, under this file's own prefix.
const REDIS_DB = 1;
const PREFIX = 'sfail:';
const ITEMS = 200;
const BATCH_KEYS = 5;
const SHARDS = 2;

interface Report {
  summary: { sampled: number; error: number };
  shard?: { index: number; count: number };
  sourceFailures?: { family: string; batches: number; keys: number; message: string }[];
  gate: { passed: boolean; failures: string[] };
}

let db: TestDb;
let pg: Sandbox;
let dir: TempDir;
let rules: string;
/** Keys of family `broken`, all in shard 1, so only that shard's query fails. */
let brokenKeys: string[];

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep([PREFIX]);
  pg = await createPgSandbox();
  const items = pg.table('items');
  await pg.exec(`CREATE TABLE ${items} (id int PRIMARY KEY, name text NOT NULL)`);
  await pg.exec(`INSERT INTO ${items} SELECT i, 'item ' || i FROM generate_series(1, ${ITEMS}) AS i`);

  const pipe = db.redis.pipeline();
  for (let id = 1; id <= ITEMS; id++) pipe.set(`${PREFIX}item:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 600);
  brokenKeys = [];
  for (let id = 1; brokenKeys.length < BATCH_KEYS; id++) {
    const key = `${PREFIX}broken:${id}`;
    if (shardOfKey(key, SHARDS) === 1) brokenKeys.push(key);
  }
  for (const key of brokenKeys) pipe.set(key, JSON.stringify({ id: Number(key.split(':').at(-1)), name: 'x' }), 'EX', 600);
  await pipe.exec();

  dir = await makeTempDir('shadowcheck-shard-source-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "${PREFIX}item:{id}"
    source: main
    table: ${items}
    fields: [name]
    ttl: 10m
  # Fails for a whole batch for a reason no id causes (an unknown setting, read per row, so the
  # check's LIMIT 0 passes).
  - name: broken
    pattern: "${PREFIX}broken:{id}"
    source: main
    query: "SELECT id, name, current_setting('shadowcheck.no_such_setting') AS boom FROM ${items} WHERE id = ANY($1)"
    key: id
    fields: [name]
    ttl: 10m
`,
  );
}, 120_000);

afterAll(async () => {
  await db?.sweep([PREFIX]);
  await db?.close();
  await pg?.drop();
  await dir?.remove();
});

function audit(args: readonly string[]): Promise<CliResult> {
  return runCli(['audit', '--rules', rules, '--redis', db.url, '--all', '--confirm-delay', '0', '--format', 'json', ...args]);
}

/** Each shard's report, gated as README advises for shards: the gate is left to merge. */
async function shardFiles(run: string): Promise<string[]> {
  const files: string[] = [];
  for (let index = 0; index < SHARDS; index++) {
    const file = dir.file(`${run}-${index}.json`);
    const result = await audit(['--shard', `${index}/${SHARDS}`, '--fail-on', 'none', '--max-error-ratio', '1', '--output', file]);
    expect(result.code, result.stderr).toBe(0);
    files.push(file);
  }
  return files;
}

const readReport = async (file: string): Promise<Report> => JSON.parse(await readFile(file, 'utf8')) as Report;

const FAILURE = /^family broken: the source query failed for a whole batch \(5 keys not judged\): .*shadowcheck\.no_such_setting/;

describe('merge of shards, one of which had a whole batch fail at the source', () => {
  it('fails the merged gate with exit 4 and the unsharded run\'s message; passes once no batch fails', async () => {
    // The reference: one unsharded run, under the default --max-error-ratio (5 of 205 keys is 2.4%).
    const whole = await audit([]);
    expect(whole.code, whole.stderr).toBe(4);
    const wholeReport = JSON.parse(whole.stdout) as Report;
    expect(wholeReport.summary).toMatchObject({ sampled: ITEMS + BATCH_KEYS, error: BATCH_KEYS });
    expect(wholeReport.gate.failures).toEqual([expect.stringMatching(FAILURE)]);
    expect(wholeReport.sourceFailures).toEqual([{ family: 'broken', batches: 1, keys: BATCH_KEYS, message: expect.stringContaining('shadowcheck.no_such_setting') }]);

    const files = await shardFiles('failing');
    const [zero, one] = await Promise.all(files.map(readReport));
    // Shard 1 carries the failed batch although its own gate (--fail-on none) passed; shard 0 had none.
    expect(one?.gate.passed).toBe(true);
    expect(one?.sourceFailures).toEqual(wholeReport.sourceFailures);
    expect(zero).not.toHaveProperty('sourceFailures');

    const merged = await runCli(['merge', ...files, '--format', 'json']);
    expect(merged.code, merged.stderr).toBe(4);
    expect(merged.stderr).toMatch(/shadowcheck: family broken: the source query failed for a whole batch \(5 keys not judged\)/);
    expect(merged.stderr).not.toMatch(STACK_TRACE);
    const mergedReport = JSON.parse(merged.stdout) as Report;
    expect(mergedReport.gate).toEqual(wholeReport.gate);
    expect(mergedReport.sourceFailures).toEqual(wholeReport.sourceFailures);

    // The query no longer runs once the family has no keys: no batch fails, and the merge passes.
    await db.sweep([`${PREFIX}broken:`]);
    const clean = await shardFiles('clean');
    for (const report of await Promise.all(clean.map(readReport))) expect(report).not.toHaveProperty('sourceFailures');
    const passing = await runCli(['merge', ...clean, '--format', 'json']);
    expect(passing.code, passing.stderr).toBe(0);
    expect((JSON.parse(passing.stdout) as Report).gate).toEqual({ passed: true, failures: [] });
  }, 120_000);
});
