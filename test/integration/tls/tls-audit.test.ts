import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoPlan, type DemoPlan } from '../../../src/demo/plan.js';
import { seedDemo, writeDemoEntries } from '../../../src/demo/seed.js';
import { runCli } from '../../e2e/cli.js';
import { label, parseNdjson } from '../helpers/audit-cli.js';
import { MYSQL_URL, PG_URL } from '../helpers/db.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';
import { createTestPki, tlsServerArgs, type TestPki } from '../helpers/tls.js';
import { adminClient, startRedisProcess, stopAll, type RedisProcess } from '../sentinel/servers.js';

// A TLS-only redis-server holding the demo plan's entries; the databases are seeded by seedDemo
// into a throwaway schema (its Redis side goes to a private plain server, then unused).
const schema = `sc_${randomBytes(5).toString('hex')}`;
let pki: TestPki;
let server: RedisProcess;
let plain: RedisServer;
let admin: Redis;
let plan: DemoPlan;

beforeAll(async () => {
  pki = await createTestPki();
  const ca = readFileSync(pki.caCert);
  server = await startRedisProcess({ args: (port, dir) => tlsServerArgs(pki, port, dir, 'optional'), probe: { tls: { ca } } });
  admin = await adminClient(server.port, { tls: { ca } });
  plain = await startRedisServer();
  plan = buildDemoPlan();
  // Long enough TTLs for a loaded machine; a match is decided before any TTL step.
  for (const entry of plan.entries) if (!plan.expected.has(entry.key) && entry.ttlS !== null && entry.ttlS < 30) entry.ttlS = 55;
  await seedDemo(plan, { redisUrl: `redis://127.0.0.1:${plain.port}/0`, postgresUrl: PG_URL, mysqlUrl: MYSQL_URL, schema });
  await writeDemoEntries(admin, plan);
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await stopAll();
  await plain?.kill();
  await pki?.remove();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const my = await mysql.createConnection({ uri: MYSQL_URL });
  await my.query(`DROP DATABASE IF EXISTS ${schema}`);
  await my.end();
});

describe('an audit over TLS (rediss:// with --tls-ca)', () => {
  it('gives every planted key the same verdict as on a plain server', async () => {
    const result = await runCli(
      ['audit', '--rules', 'rules/demo.yaml', '--redis', `rediss://localhost:${server.port}/0`, '--tls-ca', pki.caCert, '--all', '--format', 'ndjson'],
      { SHADOWCHECK_DEMO_SCHEMA: schema },
    );
    expect(result.code).toBe(1);
    const report = parseNdjson(result.stdout);
    const wrong: string[] = [];
    for (const entry of plan.entries) {
      if (entry.key.endsWith(':sessions')) continue; // matches no family
      const expected = plan.expected.get(entry.key) ?? { verdict: 'match' };
      const line = report.byKey.get(entry.key);
      const want = expected.reason === undefined ? expected.verdict : `${expected.verdict}/${expected.reason}`;
      if (line === undefined || label(line) !== want) wrong.push(`${entry.key}: want ${want}, got ${line === undefined ? 'nothing' : label(line)}`);
    }
    expect(wrong).toEqual([]);
    expect(report.summary.summary.unmatched).toBe(1);
  });
});
