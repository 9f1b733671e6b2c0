/**
 * The verdicts the demo cannot plant (too-large, source-error, timeout, converged, vanished,
 * cache-error) and the audit's flags (gate thresholds, --family, --sample/--seed, --output,
 * --max-error-ratio), each on a tiny dataset of its own, through the built CLI.
 *
 * Isolation: logical database 4 of a private redis-server (only keys under this file's prefixes are written and
 * removed), a throwaway `sc_<hex>` PostgreSQL schema, a temp dir for the rules file and reports,
 * and a random ACL user for the cache-error case, all removed afterwards. Tests in this file run
 * one after another, so "a new client on db 4" is always the CLI of the current test.
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { label, makeTempDir, parseNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { clientIdsOn, createAclUser, openTestDb, waitForClientCommand, type AclUser, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 4;
const PREFIXES = ['big:', 'err:', 'aerr:', 'berr:', 'slow:', 'conv:', 'van:', 'cerr:', 'gate:', 'smp:', 'bin:'];
const ITEMS = 30;
const FAMILY_NAMES = ['too-large', 'source-error', 'row-errors', 'batch-error', 'slow', 'converge', 'vanish', 'cache-error', 'gate', 'sample', 'binary'];

/** CLIENT LIST `cmd` names of the commands that read a value (and its PTTL) for a batch. */
const VALUE_READS = ['get', 'getrange', 'pttl', 'hgetall', 'eval', 'eval_ro', 'evalsha', 'evalsha_ro'];

const itemJson = (id: number, name = `item ${id}`) => JSON.stringify({ id, name });

/** A key of raw bytes: `prefix` then the given bytes (not valid UTF-8 when they include 0x80-0xff). */
const rawKey = (prefix: string, ...parts: (number[] | string)[]) =>
  Buffer.concat([Buffer.from(prefix), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))]);

function rulesYaml(sandbox: Sandbox): string {
  const items = sandbox.table('items');
  const family = (name: string, prefix: string, load: string) =>
    `  - name: ${name}\n    pattern: "${prefix}{id}"\n    source: main\n    ${load}\n    key: id\n    fields: [name]\n    ttl: 300s\n`;
  return [
    'version: 1',
    'sources:',
    `  main: { kind: postgres, url: "${sandbox.url}" }`,
    'families:',
    // 2000 bytes for id 1 (about 2 KB of JSON in the cache), 500 for the others.
    family('too-large', 'big:', `query: "SELECT id, repeat('x', CASE WHEN id = 1 THEN 2000 ELSE 500 END) AS name FROM ${items} WHERE id = ANY($1)"`),
    // Data-dependent failure: the check's LIMIT 0 reads no row, so only a batch holding id 13 fails.
    family('source-error', 'err:', `query: "SELECT id, name, 1 / (id - 13) AS boom FROM ${items} WHERE id = ANY($1)"`),
    // Fails for every row, each by its own data (class 22): every key is its own error.
    family('row-errors', 'aerr:', `query: "SELECT id, name, 1 / (id - id) AS boom FROM ${items} WHERE id = ANY($1)"`),
    // Fails for a whole batch for a reason no id causes (an unknown setting, read per row, so the
    // check's LIMIT 0 passes): the batch as a whole is an error, which the gate names.
    family('batch-error', 'berr:', `query: "SELECT id, name, current_setting('shadowcheck.no_such_setting') AS boom FROM ${items} WHERE id = ANY($1)"`),
    family('slow', 'slow:', `query: "SELECT id, name, pg_sleep(CASE WHEN id = 7 THEN 5 ELSE 0 END)::text AS nap FROM ${items} WHERE id = ANY($1)"`),
    family('converge', 'conv:', `table: ${items}`),
    family('vanish', 'van:', `table: ${items}`),
    family('cache-error', 'cerr:', `table: ${items}`),
    family('gate', 'gate:', `table: ${items}`),
    family('sample', 'smp:', `table: ${items}`),
    family('binary', 'bin:', `table: ${sandbox.table('bins')}`),
  ].join('\n');
}

describe('shadowcheck audit: edge verdicts and flags', () => {
  let testDb: TestDb;
  let sandbox: Sandbox;
  let dir: TempDir;
  let rulesFile: string;

  const audit = (args: readonly string[], redisUrl = testDb.url): Promise<CliResult> =>
    runCli(['audit', '--rules', rulesFile, '--redis', redisUrl, ...args], {}, 60_000);

  /** Runs an ndjson audit and parses it; a failure to parse shows the CLI's stderr. */
  async function ndjson(args: readonly string[], redisUrl?: string): Promise<{ result: CliResult; report: NdjsonReport }> {
    const result = await audit(['--all', '--format', 'ndjson', ...args], redisUrl);
    try {
      return { result, report: parseNdjson(result.stdout) };
    } catch (error) {
      throw new Error(`${String(error)}\nexit ${String(result.code)}, stderr:\n${result.stderr}`);
    }
  }

  const verdicts = (report: NdjsonReport) => Object.fromEntries(report.keys.map((k) => [k.key, label(k)]));
  const allMatch = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 'match']));
  const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep(PREFIXES);
    sandbox = await createPgSandbox();
    dir = await makeTempDir('sc-edge-');
    await sandbox.exec(`CREATE TABLE ${sandbox.table('items')} (id integer PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${sandbox.table('items')} SELECT g, 'item ' || g FROM generate_series(1, ${ITEMS}) g`);
    await sandbox.exec(`CREATE TABLE ${sandbox.table('bins')} (id text PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${sandbox.table('bins')} VALUES ($1, 'ff one'), ($2, 'fe one'), ($3, 'ff'), ($4, 'café')`, [
      '\\xff01',
      '\\xfe01',
      '\\xff',
      'café',
    ]);
    rulesFile = await dir.write('rules.yaml', rulesYaml(sandbox));

    const r = testDb.redis;
    const pipe = r.pipeline();
    pipe.set('big:1', itemJson(1, 'x'.repeat(2000)), 'EX', 200);
    pipe.set('big:2', itemJson(2, 'x'.repeat(500)), 'EX', 200);
    for (let id = 1; id <= ITEMS; id++) pipe.set(`err:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= ITEMS; id++) pipe.set(`aerr:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= ITEMS; id++) pipe.set(`berr:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= 8; id++) pipe.set(`slow:${id}`, itemJson(id), 'EX', 200);
    // Stale, no expiry: divergent/no-ttl unless fixed before the confirmation re-read.
    pipe.set('conv:1', itemJson(1, 'stale name'));
    pipe.set('conv:2', itemJson(2, 'stale name'));
    for (let id = 1; id <= 4; id++) pipe.set(`van:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= 3; id++) pipe.set(`cerr:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= 3; id++) pipe.set(`gate:${id}`, itemJson(id, 'stale name'));
    for (let id = 4; id <= 5; id++) pipe.set(`gate:${id}`, itemJson(id), 'EX', 200);
    for (let id = 1; id <= 20; id++) pipe.set(`smp:${id}`, itemJson(id), 'EX', 200);
    pipe.set(rawKey('bin:', [0xff], '01'), JSON.stringify({ name: 'ff one' }), 'EX', 200);
    pipe.set(rawKey('bin:', [0xfe], '01'), JSON.stringify({ name: 'fe one' }), 'EX', 200);
    pipe.set(rawKey('bin:', [0xff]), JSON.stringify({ name: 'ff' }), 'EX', 200);
    pipe.set(rawKey('bin:', [0xfe]), JSON.stringify({ name: 'deleted row' }));
    pipe.set(rawKey('bin:', 'café'), JSON.stringify({ name: 'café' }), 'EX', 200);
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  });

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep(PREFIXES);
      await testDb.close();
    }
    await sandbox?.drop();
    await dir?.remove();
  });

  it('skipped/too-large: a value over --max-value-bytes is skipped, the same value under the default limit is judged', async () => {
    const limited = await ndjson(['--family', 'too-large', '--max-value-bytes', '1000']);
    expect(verdicts(limited.report)).toEqual({ 'big:1': 'skipped/too-large', 'big:2': 'match' });
    expect(limited.report.byKey.get('big:1')?.detail).toMatch(/20\d\d/);
    expect(limited.report.summary.summary).toMatchObject({ sampled: 2, judged: 1, skipped: 1, error: 0 });
    expect(limited.result.code).toBe(0);

    const unlimited = await ndjson(['--family', 'too-large']);
    expect(verdicts(unlimited.report)).toEqual({ 'big:1': 'match', 'big:2': 'match' });
  });

  it('error/source-error: a row whose query fails errors only its own key, in a batch of one or of 100', async () => {
    for (const batch of ['1', '100']) {
      const run = await ndjson(['--family', 'source-error', '--batch', batch]);
      expect(verdicts(run.report)).toEqual({ ...allMatch(range('err:', 1, ITEMS)), 'err:13': 'error/source-error' });
      expect(run.report.byKey.get('err:13')?.detail).toMatch(/division by zero/);
      // 1 of 30 is under the default --max-error-ratio (5%), and nothing is divergent.
      expect(run.result.code).toBe(0);
      expect(run.report.summary.summary).toMatchObject({ sampled: 30, judged: 29, match: 29, error: 1 });
    }
  });

  it('exit 4 when more keys than --max-error-ratio could not be judged; exit 0 when the ratio allows it', async () => {
    const over = await audit(['--family', 'row-errors', '--batch', '100', '--all', '--format', 'json']);
    expect(over.code).toBe(4);
    expect(over.stderr).toMatch(/30 of 30 keys could not be judged/);
    expect(over.stderr).toMatch(/--max-error-ratio/);
    expect(over.stderr).not.toMatch(STACK_TRACE);
    // The report is still printed in full.
    expect((JSON.parse(over.stdout) as { summary: { error: number } }).summary.error).toBe(30);

    const allowed = await audit(['--family', 'row-errors', '--batch', '100', '--all', '--format', 'json', '--max-error-ratio', '1']);
    expect(allowed.code).toBe(0);
    const failOnError = await audit(['--family', 'row-errors', '--batch', '100', '--all', '--format', 'json', '--max-error-ratio', '1', '--fail-on', 'error']);
    expect(failOnError.code).toBe(1);
    const gate = (JSON.parse(failOnError.stdout) as { gate: { passed: boolean; failures: string[] } }).gate;
    expect(gate.passed).toBe(false);
    expect(gate.failures).toContain('error 30 > max 0');
  });

  it('a batch whose query fails as a whole fails the gate (exit 4) whatever --max-error-ratio allows, and the gate names it', async () => {
    const run = await audit(['--family', 'batch-error', '--batch', '100', '--all', '--format', 'json', '--max-error-ratio', '1']);
    expect(run.code).toBe(4);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    const report = JSON.parse(run.stdout) as { summary: { error: number }; gate: { passed: boolean; failures: string[] } };
    expect(report.summary.error).toBe(30);
    expect(report.gate.passed).toBe(false);
    // The first batch of a family holds at most 16 MiB / --max-value-bytes keys (16 at the default
    // 1 MiB) until its values' sizes are measured, so the 30 keys fail as two batches.
    expect(report.gate.failures.join('\n')).toMatch(/family batch-error: the source query failed for 2 whole batches \(30 keys not judged\): .*shadowcheck\.no_such_setting/);
    // --fail-on none asks for no gate at all.
    const none = await audit(['--family', 'batch-error', '--batch', '100', '--all', '--format', 'json', '--fail-on', 'none', '--max-error-ratio', '1']);
    expect(none.code).toBe(0);
  });

  it('error/timeout: a statement over --timeout errors its key as timeout; the others are judged', async () => {
    const { result, report } = await ndjson(['--family', 'slow', '--batch', '1', '--timeout', '1000', '--max-error-ratio', '0.5']);
    expect(verdicts(report)).toEqual({ ...allMatch(range('slow:', 1, 8)), 'slow:7': 'error/timeout' });
    expect(report.byKey.get('slow:7')?.detail).toMatch(/timed out/);
    expect(result.code).toBe(0);
  });

  it('within-ttl/converged: a key fixed between the first read and the confirmation re-read', async () => {
    const before = await clientIdsOn(testDb);
    const run = ndjson(['--family', 'converge', '--confirm-delay', '3000']);
    // The CLI's first read of the batch: its connection's last command becomes a value read
    // (whichever way the reader fetches: GET/GETRANGE + PTTL pipelines, or one read-only script).
    // It then loads the rows and waits 3 s before re-reading; the fix lands in that window.
    const fixed = waitForClientCommand(testDb, VALUE_READS, 20_000, before).then(async () => {
      await testDb.redis.set('conv:1', itemJson(1), 'KEEPTTL');
    });
    const [{ result, report }] = await Promise.all([run, fixed]);
    expect(verdicts(report)).toEqual({ 'conv:1': 'within-ttl/converged', 'conv:2': 'divergent/no-ttl' });
    expect(report.summary.summary.byReason).toMatchObject({ converged: 1, 'no-ttl': 1 });
    expect(result.code).toBe(1);
    expect(await testDb.redis.pttl('conv:1')).toBe(-1);
  });

  it('skipped/vanished: a key deleted after SCAN returned it and before it was read', async () => {
    // --rate 2 makes the CLI wait about 2 s for the SCAN reply's 4 keys and 2 s more before
    // reading them; SCAN with COUNT 1000 covers this small database in one call.
    const before = await clientIdsOn(testDb);
    const run = ndjson(['--family', 'vanish', '--rate', '2', '--batch', '1000']);
    const deleted = waitForClientCommand(testDb, ['scan'], 20_000, before).then(() => testDb.redis.del('van:3'));
    const [{ result, report }, removed] = await Promise.all([run, deleted]);
    expect(removed).toBe(1);
    expect(verdicts(report)).toEqual({ 'van:1': 'match', 'van:2': 'match', 'van:3': 'skipped/vanished', 'van:4': 'match' });
    expect(result.code).toBe(0);
  });

  describe('error/cache-error', () => {
    let user: AclUser | undefined;
    afterAll(async () => {
      await user?.drop();
    });

    it('a key the cache refuses to read (an ACL without access to it) errors; the others are judged', async () => {
      user = await createAclUser(testDb.redis, 'sc_audit_edge', ['~cerr:1', '~cerr:2', '+@all', '-@write']);
      const { result, report } = await ndjson(['--family', 'cache-error', '--max-error-ratio', '1'], user.url(REDIS_DB));
      expect(verdicts(report)).toEqual({ 'cerr:1': 'match', 'cerr:2': 'match', 'cerr:3': 'error/cache-error' });
      expect(report.byKey.get('cerr:3')?.detail).toMatch(/NOPERM/);
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(user.password);
    });
  });

  describe('the gate: 3 divergent (no-ttl) and 2 matching keys', () => {
    it.each([
      { args: [], code: 1, failures: ['divergent 3 > max 0'] },
      { args: ['--max-divergent', '3'], code: 0, failures: [] },
      { args: ['--max-divergent', '2'], code: 1, failures: ['divergent 3 > max 2'] },
      { args: ['--fail-on', 'none'], code: 0, failures: [] },
      { args: ['--max-divergent', '3', '--min-consistency', '0.5'], code: 1, failures: ['consistency 40% < min 50%'] },
      { args: ['--max-divergent', '3', '--min-consistency', '0.4'], code: 0, failures: [] },
    ])('$args: exit $code', async ({ args, code, failures }) => {
      const { result, report } = await ndjson(['--family', 'gate', '--confirm-delay', '0', ...args]);
      expect(verdicts(report)).toEqual({
        'gate:1': 'divergent/no-ttl',
        'gate:2': 'divergent/no-ttl',
        'gate:3': 'divergent/no-ttl',
        'gate:4': 'match',
        'gate:5': 'match',
      });
      expect(report.summary.summary.divergent).toBe(3);
      // The run-wide failure must be listed; the gate may add per-family ones (one family here).
      expect(report.summary.gate.passed).toBe(failures.length === 0);
      if (failures.length === 0) expect(report.summary.gate.failures).toEqual([]);
      for (const failure of failures) expect(report.summary.gate.failures).toContain(failure);
      expect(result.code).toBe(code);
    });
  });

  it('--family limits the audit to the named families, in rules-file order', async () => {
    const { result, report } = await ndjson(['--family', 'sample', '--family', 'gate', '--confirm-delay', '0']);
    expect(report.summary.families.map((f) => f.name)).toEqual(['gate', 'sample']);
    expect(new Set(report.keys.map((k) => k.family))).toEqual(new Set(['gate', 'sample']));
    expect(report.keys.map((k) => k.key).sort()).toEqual([...range('gate:', 1, 5), ...range('smp:', 1, 20)].sort());
    expect(report.summary.summary.sampled).toBe(25);
    expect(result.code).toBe(1);
  });

  it('an unknown --family is a usage error (exit 2) listing the families, before anything is read', async () => {
    const result = await audit(['--family', 'gate', '--family', 'nope', '--format', 'ndjson']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"nope"');
    for (const name of FAMILY_NAMES) expect(result.stderr).toContain(name);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('--sample 3 --seed 5 picks the same 3 keys of the family twice', async () => {
    const args = ['--family', 'sample', '--sample', '3', '--seed', '5', '--format', 'ndjson'];
    const first = await audit(args);
    const second = await audit(args);
    const keys = (r: CliResult) =>
      parseNdjson(r.stdout)
        .keys.map((k) => k.key)
        .sort();
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(keys(first)).toHaveLength(3);
    expect(keys(second)).toEqual(keys(first));
    for (const key of keys(first)) expect(range('smp:', 1, 20)).toContain(key);
    expect(parseNdjson(first.stdout).summary.summary).toMatchObject({ sampled: 3, match: 3 });
  });

  it('--output FILE writes the JSON report there (atomically: no temp file left), stdout stays empty', async () => {
    const out = await makeTempDir('sc-edge-out-');
    try {
      const file = out.file('report.json');
      const result = await audit(['--family', 'gate', '--all', '--confirm-delay', '0', '--format', 'json', '--output', file]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const document = JSON.parse(await readFile(file, 'utf8')) as {
        tool: string;
        summary: { sampled: number; divergent: number };
        findings: { key: string; verdict: string; reason: string }[];
        gate: { passed: boolean };
      };
      expect(document.tool).toBe('shadowcheck');
      expect(document.summary).toMatchObject({ sampled: 5, divergent: 3 });
      expect(document.findings.map((f) => `${f.key} ${f.verdict}/${f.reason}`).sort()).toEqual([
        'gate:1 divergent/no-ttl',
        'gate:2 divergent/no-ttl',
        'gate:3 divergent/no-ttl',
      ]);
      expect(document.gate.passed).toBe(false);
      expect(await readdir(out.path)).toEqual(['report.json']);
    } finally {
      await out.remove();
    }
  });

  it('reports binary (non-UTF-8) key names escaped as \\xNN, reads them by their bytes, never mangles them', async () => {
    const { result, report } = await ndjson(['--family', 'binary', '--confirm-delay', '0']);
    // Each of these would read as missing (skipped/vanished) or collide if the name were decoded
    // lossily (0xff and 0xfe both become U+FFFD): they are judged against rows keyed by the
    // escaped id instead.
    expect(verdicts(report)).toEqual({
      'bin:\\xff01': 'match',
      'bin:\\xfe01': 'match',
      'bin:\\xff': 'match',
      'bin:\\xfe': 'divergent/orphan',
      'bin:café': 'match',
    });
    expect(result.stdout).not.toContain('\ufffd');
    expect(result.code).toBe(1);
  });
});
