/**
 * Faults on the Redis side and signals, against real processes: a redis-server frozen with SIGSTOP
 * past --timeout, SIGINT / SIGTERM in the middle of an audit, and a 20 MB value in the keyspace.
 *
 * Isolation: every test has a redis-server of its own on a free port (SIGCONT then SIGKILL in
 * finally, whatever happens), one throwaway `sc_<hex>` PostgreSQL schema and a temp dir, all
 * removed afterwards. The shared Redis is not touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, parseNdjson, label, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';
import { adminClient, otherClients, parseJsonReport, releaseServer, rulesFile, seedItems, sleep, startCli, waitForValueReads } from './fault-helpers.js';

const ITEMS = 3000;
const PREFIX = 'f:';

describe('faults: Redis and signals', () => {
  let sandbox: Sandbox;
  let dir: TempDir;
  let rules: string;

  beforeAll(async () => {
    sandbox = await createPgSandbox();
    dir = await makeTempDir('sc-faults-redis-');
    const items = sandbox.table('items');
    await sandbox.exec(`CREATE TABLE ${items} (id integer PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${items} SELECT g, 'item ' || g FROM generate_series(1, ${ITEMS}) g`);
    rules = await dir.write('rules.yaml', rulesFile({ kind: 'postgres', url: sandbox.url, pattern: `${PREFIX}{id}`, table: items }));
  });

  afterAll(async () => {
    await sandbox?.drop();
    await dir?.remove();
  });

  /** A private redis-server holding f:1..ITEMS, all matching their rows. */
  async function seededServer(): Promise<{ server: RedisServer; admin: Awaited<ReturnType<typeof adminClient>> }> {
    const server = await startRedisServer();
    try {
      const admin = await adminClient(server);
      await seedItems(admin.redis, PREFIX, ITEMS);
      return { server, admin };
    } catch (error) {
      await releaseServer(server);
      throw error;
    }
  }

  const frozenArgs = (server: RedisServer) => [
    'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`,
    '--all', '--rate', '500', '--batch', '100', '--confirm-delay', '0', '--timeout', '1000', '--format', 'json',
  ];

  /** The report the frozen-Redis runs must print: incomplete, naming the frozen Redis (not "lost": the connection is up), with what was judged. */
  function expectFrozenReport(stdout: string, stderr: string, port: number): void {
    expect(stderr).not.toMatch(STACK_TRACE);
    expect(stderr).toMatch(/audit incomplete: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 stopped answering/);
    const report = parseJsonReport({ code: null, stdout, stderr });
    expect(report.tool).toBe('shadowcheck');
    expect(report.incomplete).toBe(true);
    expect(report.abortReason).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 stopped answering: no reply within 1000 ms \(--timeout\)$/);
    expect(report.abortReason).toContain(String(port));
    expect(report.gate.passed).toBe(false);
    expect(report.summary.sampled).toBeGreaterThan(0);
    expect(report.summary.sampled).toBeLessThan(ITEMS);
    expect(report.summary.match).toBe(report.summary.sampled);
  }

  it('Redis frozen (SIGSTOP) past --timeout mid-audit: the partial JSON report (incomplete) within a bound; exit 3 once Redis answers again', async () => {
    const { server, admin } = await seededServer();
    // 3000 keys at 500 keys/s: about 12 s if nothing went wrong.
    const cli = startCli(frozenArgs(server));
    try {
      await waitForValueReads(admin.redis, admin.id);
      await sleep(1000);
      admin.redis.disconnect();
      server.process.kill('SIGSTOP');
      const stoppedAt = Date.now();
      // --timeout 1000: the commands in flight give up after 1 s and the report is printed.
      await waitFor(async () => /audit incomplete/.test(cli.output().stderr), 10_000, 'the CLI to print its partial report');
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expectFrozenReport(cli.output().stdout, cli.output().stderr, server.port);
      // Once the server answers again the process is gone or goes at once, with 3.
      server.process.kill('SIGCONT');
      const resumedAt = Date.now();
      const result = await cli.done;
      expect(result.endedAt - resumedAt).toBeLessThan(5000);
      expect(result.code).toBe(3);
      expectFrozenReport(result.stdout, result.stderr, server.port);
    } finally {
      cli.kill();
      await releaseServer(server);
    }
  }, 45_000);

  // close() once waited forever for the QUIT reply of a frozen server; it now disconnects after
  // --timeout, so the CLI exits even while Redis stays frozen.
  it('Redis frozen (SIGSTOP) and left frozen: the CLI exits 3 within 6 s of the freeze', async () => {
    const { server, admin } = await seededServer();
    const cli = startCli(frozenArgs(server), 8000);
    try {
      await waitForValueReads(admin.redis, admin.id);
      await sleep(1000);
      admin.redis.disconnect();
      server.process.kill('SIGSTOP');
      const stoppedAt = Date.now();
      const result = await cli.done;
      expect(result.endedAt - stoppedAt).toBeLessThan(6000);
      expect(result.code).toBe(3);
      expectFrozenReport(result.stdout, result.stderr, server.port);
    } finally {
      cli.kill();
      await releaseServer(server);
    }
  }, 45_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-audit: stops within about a batch, partial report (interrupted), connections closed, exit %i', async (signal, exitCode) => {
    const { server, admin } = await seededServer();
    const cli = startCli([
      'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`,
      '--all', '--rate', '500', '--batch', '100', '--confirm-delay', '0', '--format', 'json',
    ]);
    try {
      await waitForValueReads(admin.redis, admin.id);
      await sleep(1000);
      cli.child.kill(signal);
      const signalledAt = Date.now();
      const result = await cli.done;

      // A batch of 100 keys at 500 keys/s is 0.2 s; allow a few for the batches in flight.
      expect(result.endedAt - signalledAt).toBeLessThan(5000);
      expect(result.code).toBe(exitCode);
      expect(result.signal).toBeNull();
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expect(result.stderr).toContain(`shadowcheck: ${signal}: finishing the batches in flight`);
      expect(result.stderr).toMatch(/audit incomplete: interrupted/);
      const report = parseJsonReport(result);
      expect(report.incomplete).toBe(true);
      expect(report.abortReason).toBe('interrupted');
      expect(report.gate.passed).toBe(false);
      expect(report.summary.sampled).toBeGreaterThan(0);
      expect(report.summary.sampled).toBeLessThan(ITEMS);
      expect(report.summary.match).toBe(report.summary.sampled);
      // The audit's Redis connection is gone once the process has exited.
      const leftover = await waitFor(async () => ((await otherClients(admin.redis, admin.id)).length === 0 ? true : undefined), 2000, 'no client but the test on the private server').catch(
        async () => otherClients(admin.redis, admin.id),
      );
      expect(leftover).toBe(true);
    } finally {
      cli.kill();
      admin.redis.disconnect();
      await releaseServer(server);
    }
  }, 45_000);

  it('a 20 MB value: skipped/too-large without being transferred, the other keys are still judged', async () => {
    const server = await startRedisServer();
    const admin = await adminClient(server).catch(async (error: unknown) => {
      await releaseServer(server);
      throw error;
    });
    try {
      const small = 200;
      await seedItems(admin.redis, PREFIX, small);
      const huge = 20 * 1024 * 1024;
      // A valid JSON string for row 100 (so only its size can make it unjudgeable), 20 MB long.
      await admin.redis.set(`${PREFIX}100`, JSON.stringify({ id: 100, name: 'x'.repeat(huge) }), 'EX', 200);
      await admin.redis.call('CONFIG', 'RESETSTAT');
      const memoryBefore = Number(/used_memory:(\d+)/.exec(await admin.redis.info('memory'))?.[1]);

      const cli = startCli(['audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`, '--all', '--batch', '50', '--format', 'ndjson']);
      let result;
      try {
        result = await cli.done;
      } finally {
        cli.kill();
      }
      expect(result.stderr).not.toMatch(STACK_TRACE);
      const report = parseNdjson(result.stdout);
      expect(report.summary.incomplete).toBeUndefined();
      const verdicts = new Map(report.keys.map((k) => [k.key, label(k)]));
      expect(verdicts.get(`${PREFIX}100`)).toBe('skipped/too-large');
      // Every other key was judged: the audit went on past the huge one.
      expect(report.summary.summary.sampled).toBe(small);
      const others = [...verdicts].filter(([key]) => key !== `${PREFIX}100`);
      expect(others).toHaveLength(small - 1);
      expect(others.every(([, v]) => v === 'match')).toBe(true);
      expect(result.code).toBe(0);

      // What the server sent: far less than the 20 MB value (the whole audit's replies).
      const stats = await admin.redis.info('stats');
      const sent = Number(/total_net_output_bytes:(\d+)/.exec(stats)?.[1]);
      expect(sent).toBeLessThan(1024 * 1024);
      // And no GET / GETRANGE of the huge key at all: the script asks its STRLEN and stops. GET is
      // run (inside the script) once per small key only.
      const commandstats = await admin.redis.info('commandstats');
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(commandstats)?.[1] ?? 0);
      expect(calls('getrange')).toBe(0);
      expect(calls('get')).toBe(small - 1);
      expect(calls('strlen')).toBeGreaterThanOrEqual(small);
      // Redis did not copy the value into an output buffer either.
      const memoryAfter = Number(/used_memory:(\d+)/.exec(await admin.redis.info('memory'))?.[1]);
      expect(memoryAfter - memoryBefore).toBeLessThan(5 * 1024 * 1024);
    } finally {
      admin.redis.disconnect();
      await releaseServer(server);
    }
  }, 45_000);
});
