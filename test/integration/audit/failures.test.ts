/**
 * How the audit fails: an unreachable Redis or source (exit 3, one clear line, password redacted),
 * a family whose table does not exist (exit 2 before any key is judged), and a Redis that dies in
 * the middle of an audit (exit 3 with a partial report marked incomplete).
 *
 * Isolation: logical database 6 of a private redis-server (only `fail:` keys), a redis-server of
 * its own on a free port for the crash (killed in afterAll whatever happens), a throwaway `sc_<hex>`
 * PostgreSQL schema and a temp dir; all removed afterwards.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { clientList, openTestDb, startRedisServer, waitFor, type RedisServer, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 6;
const PREFIX = 'fail:';
const CRASH_KEYS = 3000;

/** CLIENT LIST `cmd` names of the commands that read a value (and its PTTL) for a batch. */
const VALUE_READS = ['get', 'getrange', 'pttl', 'hgetall', 'eval', 'eval_ro', 'evalsha', 'evalsha_ro'];

const family = (name: string, pattern: string, table: string, source = 'main') =>
  [`  - name: ${name}`, `    pattern: "${pattern}"`, `    source: ${source}`, `    table: ${table}`, '    key: id', '    fields: [name]', '    ttl: 300s'].join('\n');

const rules = (sources: Record<string, string>, families: string[]) =>
  ['version: 1', 'sources:', ...Object.entries(sources).map(([name, spec]) => `  ${name}: ${spec}`), 'families:', ...families].join('\n');

/**
 * stderr of a connection failure: the message on one line, optionally followed by its hint line,
 * and nothing else (no stack trace, no report on stdout).
 */
function expectOneLineFailure(result: CliResult, message: RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(STACK_TRACE);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(message);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toMatch(/^\s+hint: /);
}

describe('shadowcheck audit: failures', () => {
  let testDb: TestDb;
  let sandbox: Sandbox;
  let dir: TempDir;
  let items: string;

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep([PREFIX]);
    sandbox = await createPgSandbox();
    dir = await makeTempDir('sc-fail-');
    items = sandbox.table('items');
    await sandbox.exec(`CREATE TABLE ${items} (id integer PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${items} SELECT g, 'item ' || g FROM generate_series(1, ${CRASH_KEYS}) g`);
    const pipe = testDb.redis.pipeline();
    for (let id = 1; id <= 3; id++) pipe.set(`${PREFIX}ok:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 200);
    await pipe.exec();
  });

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep([PREFIX]);
      await testDb.close();
    }
    await sandbox?.drop();
    await dir?.remove();
  });

  const validRules = () => dir.write('valid.yaml', rules({ main: `{ kind: postgres, url: "${sandbox.url}" }` }, [family('ok', `${PREFIX}ok:{id}`, items)]));

  it('Redis unreachable: exit 3, one line naming it, no stack trace', async () => {
    const result = await runCli(['audit', '--rules', await validRules(), '--redis', 'redis://127.0.0.1:1/0', '--format', 'json']);
    expect(result.code).toBe(3);
    expectOneLineFailure(result, /^shadowcheck: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1\/0\b/);
  });

  it('Redis unreachable with a password in the URL: the password is printed nowhere', async () => {
    const secret = 'Redis_S3cret_9f2c';
    const result = await runCli(['audit', '--rules', await validRules(), '--redis', `redis://scuser:${secret}@127.0.0.1:1/0`]);
    expect(result.code).toBe(3);
    expectOneLineFailure(result, /^shadowcheck: cannot connect to Redis at redis:\/\/scuser:\*\*\*@127\.0\.0\.1:1\/0\b/);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it.each([
    ['postgres', 'postgres://scuser:Pg_S3cret_71ab@127.0.0.1:1/test', 'Pg_S3cret_71ab'],
    ['mysql', 'mysql://scuser:My_S3cret_e04d@127.0.0.1:1/test', 'My_S3cret_e04d'],
  ])('%s source unreachable: exit 3 naming the source, password redacted', async (kind, url, secret) => {
    const file = await dir.write(`down-${kind}.yaml`, rules({ orders: `{ kind: ${kind}, url: "${url}" }` }, [family('ok', `${PREFIX}ok:{id}`, 'items', 'orders')]));
    const result = await runCli(['audit', '--rules', file, '--redis', testDb.url, '--format', 'json']);
    expect(result.code).toBe(3);
    expectOneLineFailure(result, /^shadowcheck: cannot connect to source "orders" \(.*scuser:\*\*\*@127\.0\.0\.1:1\/test\)/);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('a family whose table does not exist: exit 2 naming the family, before any key is judged', async () => {
    const file = await dir.write(
      'ghost.yaml',
      rules({ main: `{ kind: postgres, url: "${sandbox.url}" }` }, [
        // The first family has keys to judge: none of them may be reported.
        family('ok', `${PREFIX}ok:{id}`, items),
        family('ghost', `${PREFIX}ghost:{id}`, sandbox.table('no_such_table')),
      ]),
    );
    const result = await runCli(['audit', '--rules', file, '--redis', testDb.url, '--all', '--format', 'ndjson']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/family "ghost"/);
    expect(result.stderr).toContain('no_such_table');
    expect(result.stderr).not.toMatch(/family "ok"/);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  describe('Redis lost in the middle of an audit', () => {
    let server: RedisServer | undefined;
    let admin: Redis | undefined;

    afterAll(async () => {
      admin?.disconnect();
      await server?.kill();
    });

    it('exit 3, and stdout is still a valid JSON report: incomplete, with abortReason and what was judged', async () => {
      server = await startRedisServer();
      admin = new Redis(server.port, '127.0.0.1', { db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on('error', () => {});
      await admin.connect();
      const adminId = Number(await admin.client('ID'));
      const pipe = admin.pipeline();
      for (let id = 1; id <= CRASH_KEYS; id++) pipe.set(`${PREFIX}k:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 200);
      await pipe.exec();

      const file = await dir.write('crash.yaml', rules({ main: `{ kind: postgres, url: "${sandbox.url}" }` }, [family('crash', `${PREFIX}k:{id}`, items)]));
      // 3000 keys at 500 keys/s (SCAN and reads both count): about 12 s if nothing went wrong.
      const run = runCli([
        'audit', '--rules', file, '--redis', `redis://127.0.0.1:${server.port}/${REDIS_DB}`,
        '--all', '--rate', '500', '--batch', '100', '--confirm-delay', '0', '--format', 'json',
      ]);
      const live = server;
      const killed = (async () => {
        // Once the CLI reads values, give it time to judge a batch or more (each batch's rows come
        // from PostgreSQL in milliseconds; the rate allows a batch of 100 every 0.2-0.4 s), then kill.
        await waitFor(
          async () => (await clientList(admin as Redis)).some((c) => c.id !== adminId && VALUE_READS.includes(c.cmd)),
          20_000,
          'the audit to read values from the private redis-server',
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        live.process.kill('SIGKILL');
        return Date.now();
      })();
      const [result] = await Promise.all([run, killed]);

      expect(result.code).toBe(3);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expect(result.stderr).toMatch(/incomplete/);
      const report = JSON.parse(result.stdout) as {
        tool: string;
        incomplete?: boolean;
        abortReason?: string;
        summary: { sampled: number; match: number; error: number };
        gate: unknown;
      };
      expect(report.tool).toBe('shadowcheck');
      expect(report.incomplete).toBe(true);
      expect(report.abortReason).toMatch(/Redis/);
      expect(report.abortReason).toContain(String(server.port));
      // What was judged before the crash is kept, and it is all it judged: every key matches.
      expect(report.summary.sampled).toBeGreaterThan(0);
      expect(report.summary.sampled).toBeLessThan(CRASH_KEYS);
      expect(report.summary.match).toBe(report.summary.sampled);
    }, 60_000);
  });
});
