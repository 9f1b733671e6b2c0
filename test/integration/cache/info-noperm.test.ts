/**
 * An ACL user that may not run INFO: ioredis' ready check would print "Skipping the ready check
 * because INFO command fails" with console.warn on the user's terminal. The audit must work and
 * print nothing of the kind: stderr holds only shadowcheck's own JSON log lines. Standalone (a
 * redis-server of this file's own) and Cluster (3 masters of this file's own).
 *
 * Isolation: the Redis processes are this file's (killed in afterAll, so no key or ACL user of
 * theirs outlives it); the rows live in a throwaway `sc_<hex>` PostgreSQL schema; a temp dir.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type TempDir } from '../helpers/audit-cli.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

const PREFIX = 'inp:';
const KEYS = 60;
const USER = 'sc_noinfo';
const PASSWORD = 'pw_noinfo_4f1c';
/** Reads, SCAN, PING and the connection commands, but not INFO (which is in neither category). */
const RULES = ['~*', '+@read', '+@connection', '-info'];

let sandbox: Sandbox;
let dir: TempDir;
let rulesFile: string;

beforeAll(async () => {
  sandbox = await createPgSandbox();
  dir = await makeTempDir('sc-noinfo-');
  const items = sandbox.table('items');
  await sandbox.exec(`CREATE TABLE ${items} (id integer PRIMARY KEY, name text NOT NULL)`);
  await sandbox.exec(`INSERT INTO ${items} SELECT g, 'item ' || g FROM generate_series(1, ${KEYS}) g`);
  rulesFile = await dir.write(
    'rules.yaml',
    [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${sandbox.url}" }`,
      'families:',
      '  - name: items',
      `    pattern: "${PREFIX}{id}"`,
      '    source: main',
      `    table: ${items}`,
      '    key: id',
      '    fields: [name]',
      '    ttl: 300s',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sandbox?.drop();
  await dir?.remove();
});

async function seed(redis: Pick<Redis, 'set'>): Promise<void> {
  await Promise.all(Array.from({ length: KEYS }, (_, i) => redis.set(`${PREFIX}${i + 1}`, JSON.stringify({ id: i + 1, name: `item ${i + 1}` }), 'EX', 300)));
}

/** The audit judged every key a match, and stderr has nothing but shadowcheck's JSON log lines. */
function expectCleanAudit(result: CliResult): void {
  expect(result.stderr).not.toMatch(/ready check|Skipping|enableReadyCheck|ioredis/i);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  for (const line of result.stderr.split('\n').filter((l) => l.trim() !== '')) {
    expect(() => JSON.parse(line) as unknown, `a stderr line that is not a shadowcheck log line: ${line}`).not.toThrow();
  }
  const report = parseRunNdjson(result);
  expect(result.code, result.stderr).toBe(0);
  expect(report.keys).toHaveLength(KEYS);
  expect(new Set(report.keys.map(label))).toEqual(new Set(['match']));
}

describe('standalone Redis, ACL user without INFO', () => {
  let server: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.port, REDIS_HOST, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    admin.on('error', () => {});
    await admin.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${PASSWORD}`, ...RULES);
    await seed(admin);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.kill();
  });

  it('audits, and nothing but shadowcheck writes to stderr', async () => {
    // The user really cannot run INFO.
    const probe = new Redis({ host: REDIS_HOST, port: server.port, username: USER, password: PASSWORD, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null });
    try {
      await probe.connect();
      await expect(probe.info()).rejects.toThrow(/NOPERM/);
    } finally {
      probe.disconnect();
    }
    const url = `redis://${USER}:${PASSWORD}@${REDIS_HOST}:${server.port}/0`;
    expectCleanAudit(await runCli(['audit', '--rules', rulesFile, '--redis', url, '--all', '--format', 'ndjson', '--log-level', 'warn']));
  });
});

describe('Redis Cluster, ACL user without INFO', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicas: 0 });
    await Promise.all(cluster.nodes.map((n) => cluster.node(n.address).call('ACL', 'SETUSER', USER, 'reset', 'on', `>${PASSWORD}`, ...RULES, '+cluster', '+readonly')));
    await seed(cluster.admin);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('audits, and nothing but shadowcheck writes to stderr', async () => {
    const url = cluster.url.replace('redis+cluster://', `redis+cluster://${USER}:${PASSWORD}@`);
    expectCleanAudit(await runCli(['audit', '--rules', rulesFile, '--redis', url, '--all', '--format', 'ndjson', '--log-level', 'warn']));
  });
});
