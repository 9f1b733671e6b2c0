import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceLoader } from '../../../src/sources/index.js';
import { BIN, ROOT, runCli } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, MYSQL_URL, PG_URL, type Sandbox } from '../helpers/db.js';
import { startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';

// Private redis-servers: a master with one replica, and a replica whose master does not exist.
let master: RedisServer;
let replica: RedisServer;
let orphan: RedisServer;
let pg: Sandbox;
let dir: TempDir;
let rules: string;
const KEYS = 200;

beforeAll(async () => {
  [master, replica, orphan] = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
  const m = new Redis(master.port, '127.0.0.1');
  const r = new Redis(replica.port, '127.0.0.1');
  const o = new Redis(orphan.port, '127.0.0.1');
  const pipe = m.pipeline();
  for (let id = 1; id <= KEYS; id++) pipe.set(`lag:item:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 600);
  await pipe.exec();
  await r.replicaof('127.0.0.1', String(master.port));
  await waitFor(async () => (await r.info('replication')).includes('master_link_status:up') && (await r.dbsize()) === KEYS, 15_000, 'the replica to sync');
  // The orphan holds the same keys but its master (port 1) never answers.
  const opipe = o.pipeline();
  for (let id = 1; id <= KEYS; id++) opipe.set(`lag:item:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 600);
  await opipe.exec();
  await o.config('SET', 'replica-read-only', 'yes');
  await o.replicaof('127.0.0.1', '1');
  m.disconnect();
  r.disconnect();
  o.disconnect();

  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int PRIMARY KEY, name text NOT NULL)`);
  await pg.exec(`INSERT INTO ${pg.table('items')} SELECT i, 'item ' || i FROM generate_series(1, ${KEYS}) AS i`);
  dir = await makeTempDir('shadowcheck-lag-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "lag:item:{id}"
    source: main
    table: ${pg.table('items')}
    fields: [name]
    ttl: 600s
`,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([master?.kill(), replica?.kill(), orphan?.kill()]);
  await pg?.drop();
  await dir?.remove();
});

describe('replica awareness', () => {
  it('reports the lag of a Redis replica it reads, and judges through it', async () => {
    const result = await runCli(['audit', '--rules', rules, '--redis', `redis://127.0.0.1:${replica.port}/0`, '--all', '--format', 'json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { summary: { match: number }; replicaLagMs?: Record<string, number> };
    expect(report.summary.match).toBe(KEYS);
    expect(report.replicaLagMs?.['redis']).toBeGreaterThanOrEqual(1000);
    expect(report.replicaLagMs?.['redis']).toBeLessThan(10_000);
    expect(report.replicaLagMs?.['main']).toBeUndefined();
  });

  it('reports no lag when reading masters and primaries', async () => {
    const result = await runCli(['audit', '--rules', rules, '--redis', `redis://127.0.0.1:${master.port}/0`, '--all', '--format', 'json']);
    expect((JSON.parse(result.stdout) as { replicaLagMs?: unknown }).replicaLagMs).toBeUndefined();
    for (const spec of [
      { name: 'pg', kind: 'postgres' as const, url: PG_URL },
      { name: 'my', kind: 'mysql' as const, url: MYSQL_URL },
    ]) {
      const loader = await createSourceLoader(spec, { timeoutMs: 2000, maxConnections: 1 });
      try {
        expect(await loader.replicaLagMs?.()).toBeUndefined();
      } finally {
        await loader.close();
      }
    }
  });

  it('pauses rather than judge through a replica cut off from its master, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${orphan.port}/0`, '--all', '--format', 'json', '--max-replica-lag', '5s'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(async () => stderr.includes('replica too far behind'), 15_000, 'the audit to pause');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(143);
    const report = JSON.parse(stdout) as { incomplete?: boolean; summary: { sampled: number }; gate: { passed: boolean } };
    expect(report.incomplete).toBe(true);
    expect(report.summary.sampled).toBe(0);
    expect(report.gate.passed).toBe(false);
  });
});
