/**
 * `audit --concurrency 20` as a PostgreSQL role WITH CONNECTION LIMIT 3 (its pool may open 40):
 * the audit adapts to the 3 connections instead of aborting or failing batches
 * (src/sources/connection-cap.ts). Every key is judged a match, exit 0.
 *
 * Isolation: a redis-server of this file's own on a free port (killed in afterAll), a throwaway
 * `sc_<hex>` schema, a role `sc_cap_<hex>` of its own (dropped), and a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

const KEYS = 400;
const PREFIX = 'cap:';

describe('audit --concurrency 20 against a role WITH CONNECTION LIMIT 3', () => {
  let sandbox: Sandbox;
  let server: RedisServer;
  let dir: TempDir;
  const role = `sc_cap_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    sandbox = await createPgSandbox();
    server = await startRedisServer();
    dir = await makeTempDir('sc-cap-');
    const items = sandbox.table('items');
    await sandbox.exec(`CREATE TABLE ${items} (id integer PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${items} SELECT g, 'item ' || g FROM generate_series(1, ${KEYS}) g`);
    await sandbox.exec(`CREATE ROLE ${role} WITH LOGIN CONNECTION LIMIT 3`);
    await sandbox.exec(`GRANT USAGE ON SCHEMA ${sandbox.name} TO ${role}`);
    await sandbox.exec(`GRANT SELECT ON ${items} TO ${role}`);
    const redis = new Redis(server.port, REDIS_HOST, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      const pipe = redis.pipeline();
      for (let id = 1; id <= KEYS; id++) pipe.set(`${PREFIX}${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 300);
      await pipe.exec();
    } finally {
      redis.disconnect();
    }
  });
  afterAll(async () => {
    await sandbox?.exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]).catch(() => undefined);
    await sandbox?.exec(`DROP OWNED BY ${role}`).catch(() => undefined);
    await sandbox?.exec(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await sandbox?.drop();
    await server?.kill();
    await dir?.remove();
  });

  it('judges every key (no error verdict, no abort) and exits 0', async () => {
    const url = new URL(sandbox.url);
    url.username = role;
    url.password = '';
    const rules = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${url.toString()}" }`,
        'families:',
        '  - name: items',
        `    pattern: "${PREFIX}{id}"`,
        '    source: main',
        `    table: ${sandbox.table('items')}`,
        '    key: id',
        '    fields: [name]',
        '    ttl: 300s',
      ].join('\n'),
    );
    const result = await runCli([
      'audit', '--rules', rules, '--redis', `redis://${REDIS_HOST}:${server.port}/0`, '--all',
      '--concurrency', '20', '--batch', '10', '--confirm-delay', '0', '--format', 'ndjson',
    ]);
    const report = parseRunNdjson(result);
    expect(report.summary.incomplete, result.stderr).toBeUndefined();
    expect(report.keys).toHaveLength(KEYS);
    expect(new Set(report.keys.map(label))).toEqual(new Set(['match']));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/too many connections|lost the connection/);
  });
});
