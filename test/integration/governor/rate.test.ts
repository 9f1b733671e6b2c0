import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

// A private redis-server: INFO commandstats counts the whole server, and other test files run in
// parallel on the shared one.
const KEYS = 3000;
const RATE = 2000;

let server: RedisServer;
let redis: Redis;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.port, '127.0.0.1');
  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int PRIMARY KEY, name text NOT NULL)`);
  await pg.exec(`INSERT INTO ${pg.table('items')} SELECT i, 'item ' || i FROM generate_series(1, ${KEYS}) AS i`);
  const pipe = redis.pipeline();
  for (let id = 1; id <= KEYS; id++) pipe.set(`rate:item:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 600);
  await pipe.exec();
  dir = await makeTempDir('shadowcheck-rate-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "rate:item:{id}"
    source: main
    table: ${pg.table('items')}
    fields: [name]
    ttl: 600s
`,
  );
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.kill();
  await pg?.drop();
  await dir?.remove();
});

async function calls(name: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('--rate', () => {
  it(`holds within 10%: ${RATE} key operations/s (each key scanned once and read once) reads ${RATE / 2} keys/s`, async () => {
    const before = await calls('strlen');
    const started = Date.now();
    const result = await runCli([
      'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`, '--all', '--rate', String(RATE), '--format', 'json', '--confirm-delay', '0',
    ]);
    const wallMs = Date.now() - started;
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { durationMs: number; summary: { sampled: number; match: number } };
    expect(report.summary).toMatchObject({ sampled: KEYS, match: KEYS });
    // Redis saw one STRLEN per key read (inside the read script): the read rate Redis experienced.
    const reads = (await calls('strlen')) - before;
    expect(reads).toBe(KEYS);
    const readsPerSecond = reads / (report.durationMs / 1000);
    expect(readsPerSecond).toBeGreaterThan((RATE / 2) * 0.9);
    expect(readsPerSecond).toBeLessThan((RATE / 2) * 1.1);
    expect(wallMs).toBeGreaterThan(((2 * KEYS) / RATE) * 1000 * 0.9);
  });
});

describe('pausing for a busy source', () => {
  it('pauses while the database runs more queries than at the start, says so, and finishes', async () => {
    const pgLib = (await import('pg')).default;
    const audit = runCli([
      'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`, '--all', '--rate', '1500', '--format', 'json', '--confirm-delay', '0',
    ]);
    // A second after the audit started, six other sessions run 4-second queries.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = Array.from({ length: 6 }, () => new pgLib.Client({ connectionString: pg.url }));
    await Promise.all(busy.map((c) => c.connect()));
    const sleeping = Promise.all(busy.map((c) => c.query('SELECT pg_sleep(4)')));
    const result = await audit;
    await sleeping;
    await Promise.all(busy.map((c) => c.end()));
    expect(result.code).toBe(0);
    const logs = result.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; source?: string; active?: number });
    expect(logs.find((l) => l.msg === 'source busy: pausing the audit until it calms down')).toMatchObject({ source: 'main' });
    expect(logs.some((l) => l.msg === 'source calm again: resuming')).toBe(true);
    const report = JSON.parse(result.stdout) as { summary: { sampled: number; match: number } };
    expect(report.summary).toMatchObject({ sampled: KEYS, match: KEYS });
  });
});
