/**
 * A source session killed in the middle of an audit, against real servers: PostgreSQL
 * pg_terminate_backend and MariaDB KILL of the connection running a batch's query.
 *
 * What the code says should happen: the driver's error is classified 'connection' (pg: SQLSTATE
 * 57P01 or "Connection terminated"; mysql: errno 1927/2013, PROTOCOL_CONNECTION_LOST or a fatal
 * error), the loader throws lostConnection() — a ConnectionError, not a SourceQueryError — so the
 * batch is not judged `error`: the run stops (Run.fail), prints the partial report marked
 * incomplete, and exits 3 (src/sources/{postgres,mysql}.ts batchError, src/audit/run-audit.ts).
 *
 * Each batch's query sleeps 0.3 s once (a materialized one-row subquery), so the batch's session
 * can be seen running it. Only this test's sessions are killed: PostgreSQL backends whose
 * application_name is 'shadowcheck', that are active and whose query names this test's sandbox
 * schema; MariaDB processlist entries on this test's sandbox database running its query (never
 * the test's own connection).
 *
 * Isolation: a redis-server of its own per test (killed in finally), a throwaway `sc_<hex>`
 * PostgreSQL schema / MariaDB database and a temp dir, all removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';
import { adminClient, parseJsonReport, releaseServer, rulesFile, seedItems, startCli } from './fault-helpers.js';

const ITEMS = 2000;
const PREFIX = 'f:';

interface Case {
  kind: 'postgres' | 'mysql';
  create(): Promise<Sandbox>;
  /** The family's query: the rows of the batch, after sleeping 0.3 s once. */
  query(sandbox: Sandbox): string;
  /** Kills the audit's sessions running the batch query now; returns how many were killed. */
  killRunning(sandbox: Sandbox): Promise<number>;
}

const cases: Case[] = [
  {
    kind: 'postgres',
    create: createPgSandbox,
    query: (sb) => `WITH nap AS MATERIALIZED (SELECT pg_sleep(0.3)) SELECT i.id, i.name FROM ${sb.table('items')} i CROSS JOIN nap WHERE i.id = ANY($1)`,
    killRunning: async (sb) => {
      const rows = await sb.exec(
        `SELECT pid, pg_terminate_backend(pid) AS killed FROM pg_stat_activity
          WHERE application_name = 'shadowcheck' AND state = 'active' AND pid <> pg_backend_pid()
            AND position($1 in query) > 0 AND position('pg_sleep' in query) > 0`,
        [`${sb.name}.items`],
      );
      return rows.filter((r) => r['killed'] === true).length;
    },
  },
  {
    kind: 'mysql',
    create: createMysqlSandbox,
    query: () => 'SELECT i.id, i.name FROM items i CROSS JOIN (SELECT SLEEP(0.3) AS nap) AS z WHERE i.id IN (?)',
    killRunning: async (sb) => {
      const rows = await sb.exec(
        `SELECT ID AS id FROM information_schema.PROCESSLIST
          WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID() AND INFO LIKE '%SLEEP(0.3)%' AND INFO LIKE '%FROM items i%'`,
        [sb.name],
      );
      let killed = 0;
      for (const row of rows) {
        try {
          await sb.exec(`KILL CONNECTION ${Number(row['id'])}`);
          killed++;
        } catch {
          // it finished (and was reused or closed) in between: not killed
        }
      }
      return killed;
    },
  },
];

describe.each(cases)('faults: the $kind session killed mid-audit', (c) => {
  let sandbox: Sandbox;
  let dir: TempDir;
  let rules: string;
  let server: RedisServer | undefined;

  beforeAll(async () => {
    sandbox = await c.create();
    dir = await makeTempDir(`sc-faults-${c.kind}-`);
    const items = sandbox.table('items');
    await sandbox.exec(`CREATE TABLE ${items} (id integer PRIMARY KEY, name text NOT NULL)`);
    const values = Array.from({ length: ITEMS }, (_, i) => `(${i + 1}, 'item ${i + 1}')`).join(', ');
    await sandbox.exec(`INSERT INTO ${items} (id, name) VALUES ${values}`);
    rules = await dir.write('rules.yaml', rulesFile({ kind: c.kind, url: sandbox.url, pattern: `${PREFIX}{id}`, query: c.query(sandbox) }));
  });

  afterAll(async () => {
    await releaseServer(server);
    await sandbox?.drop();
    await dir?.remove();
  });

  /**
   * Starts the audit, kills the session running a batch's query once a few batches are judged, and
   * waits for the report and the exit. `--timeout` is passed through.
   */
  async function auditAndKill(timeoutMs: number) {
    server = await startRedisServer();
    const admin = await adminClient(server);
    try {
      await seedItems(admin.redis, PREFIX, ITEMS);
      await admin.redis.call('CONFIG', 'RESETSTAT');
      /** Batches read from Redis so far (one EVAL_RO each). */
      const batchReads = async () => Number(/cmdstat_eval_ro:calls=(\d+)/.exec(await admin.redis.info('commandstats'))?.[1] ?? 0);
      // 40 batches of 50 keys, 0.3 s each, two at a time, and at most 300 keys/s: about 7-14 s.
      const cli = startCli([
        'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`,
        '--all', '--rate', '300', '--batch', '50', '--concurrency', '2', '--target-query-ms', '5000', '--confirm-delay', '0',
        '--timeout', String(timeoutMs), '--format', 'json',
      ]);
      try {
        // Let a few batches be judged first, then kill the sessions running one. A batch holds one
        // of the two slots for its read and its load: once batch 5 was read, batches 1-3 were judged.
        await waitFor(async () => (await batchReads()) >= 5, 20_000, 'the audit to read 5 batches from Redis');
        await waitFor(async () => ((await c.killRunning(sandbox)) > 0 ? true : undefined), 10_000, `a ${c.kind} session of the audit running its query`, 20);
        const killedAt = Date.now();
        const readBeforeKill = await batchReads();
        await waitFor(async () => /audit incomplete/.test(cli.output().stderr), 20_000, 'the CLI to print its partial report');
        const reportAt = Date.now();
        const result = await cli.done;
        return { result, killedAt, reportAt, readBeforeKill };
      } finally {
        cli.kill();
      }
    } finally {
      admin.redis.disconnect();
      await releaseServer(server);
      server = undefined;
    }
  }

  it('exit 3 within a bound, and a partial JSON report: incomplete, naming the lost source, with what was judged', async () => {
    const { result, killedAt, reportAt, readBeforeKill } = await auditAndKill(5000);

    // The report comes at once (the other batch in flight is 0.3 s).
    expect(reportAt - killedAt).toBeLessThan(5000);
    // Both exit at once: no client-side timer of the killed query is left to hold the process.
    expect(result.endedAt - killedAt).toBeLessThan(5000);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stderr).toMatch(/audit incomplete: lost the connection to/);
    const report = parseJsonReport(result);
    expect(report.tool).toBe('shadowcheck');
    expect(report.incomplete).toBe(true);
    expect(report.abortReason).toMatch(/^lost the connection to source "main" \(.*\) while loading family "items": /);
    expect(report.abortReason).toMatch(c.kind === 'postgres' ? /terminating connection due to administrator command|Connection terminated/ : /Connection lost|killed/i);
    expect(report.gate.passed).toBe(false);
    // The killed batch is not judged `error`: the run stopped, and all it judged matches.
    expect(report.summary.error).toBe(0);
    // Three batches' reads were judged; the first of them was read in slices (16 keys, then the
    // rest) because its values' sizes were not yet measured, so at least two full batches.
    expect(report.summary.sampled).toBeGreaterThanOrEqual(2 * 50);
    // At most the batches read by the kill (the killed one is not counted) and one more slot's.
    expect(report.summary.sampled).toBeLessThanOrEqual((readBeforeKill + 2) * 50);
    expect(report.summary.sampled).toBeLessThan(ITEMS);
    expect(report.summary.match).toBe(report.summary.sampled);
  }, 45_000);

  // mysql2 used to leave the killed query's own timer running (--timeout + 5 s); the loader now
  // keeps that timeout itself, unref'd and always cleared.
  it('exits within 3 s of the kill with --timeout 1000', async () => {
    const { result, killedAt, reportAt } = await auditAndKill(1000);
    expect(reportAt - killedAt).toBeLessThan(3000);
    expect(result.code).toBe(3);
    expect(result.endedAt - killedAt).toBeLessThan(3000);
  }, 45_000);
});
