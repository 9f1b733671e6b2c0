// npm run bench [-- --keys N] [--naive-keys N] [--batch N] [--concurrency N]
//
// Seeds N keys (a JSON string family on PostgreSQL, 1% planted stale with no TTL) into a Redis
// database and a PostgreSQL schema the benchmark owns, then measures in one run:
//   naive: the per-key shadow read of seed 000 (GET, PTTL, one SELECT per key, sequential), on a subset;
//   floor: the raw I/O (pipelined SCAN + GET + PTTL, one = ANY($1) per batch), no comparison;
//   audit: `shadowcheck audit --all`, in its own process (peak RSS measured there).
// It prints keys/s for each, audit/naive and audit/floor, peak RSS, and checks that exactly the
// planted keys were reported non-match.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    'naive-keys': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const KEYS = Number(args.keys);
const NAIVE_KEYS = Math.min(Number(args['naive-keys']), KEYS);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const REDIS_URL = process.env.SHADOWCHECK_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/11';
const PG_URL = process.env.SHADOWCHECK_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'shadowcheck_bench';
const OWNER_KEY = 'shadowcheck-bench:owner';
const PREFIX = 'bench:item:';
const STALE_EVERY = 100; // 1% of keys: ids divisible by 100
const TTL_S = 3600;

const log = (line) => process.stderr.write(`${line}\n`);
const perSecond = (n, ms) => (n * 1000) / ms;

async function seed(redis, db) {
  if ((await redis.exists(OWNER_KEY)) === 0 && (await redis.dbsize()) > 0) {
    throw new Error(`${REDIS_URL} holds keys that are not the benchmark's; set SHADOWCHECK_BENCH_REDIS_URL to an empty database`);
  }
  await redis.set(OWNER_KEY, 'this logical database belongs to `npm run bench`');
  const started = Date.now();
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await db.query(`DROP TABLE IF EXISTS ${SCHEMA}.items`);
  await db.query(`CREATE TABLE ${SCHEMA}.items (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL,
    price numeric(10,2) NOT NULL, version integer NOT NULL, updated_at timestamptz(3) NOT NULL)`);
  await db.query(
    `INSERT INTO ${SCHEMA}.items SELECT i, 'Item ' || i, 'item' || i || '@example.com', (i % 1000) + 0.5, 1 + i % 7,
       now() - interval '2 hours' FROM generate_series(1, $1) AS i`,
    [KEYS],
  );
  await db.query(`ANALYZE ${SCHEMA}.items`);

  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  for (let from = 1; from <= KEYS; from += 10_000) {
    const pipe = redis.pipeline();
    for (let id = from; id < from + 10_000 && id <= KEYS; id++) {
      const stale = id % STALE_EVERY === 0;
      const value = JSON.stringify({
        id,
        name: stale ? `Item ${id} (old)` : `Item ${id}`,
        email: `item${id}@example.com`,
        price: (id % 1000) + 0.5,
        version: 1 + (id % 7),
      });
      if (stale) pipe.set(`${PREFIX}${id}`, value);
      else pipe.set(`${PREFIX}${id}`, value, 'EX', TTL_S);
    }
    await pipe.exec();
  }
  log(`seeded ${KEYS} keys (${KEYS / STALE_EVERY} planted stale) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function scanKeys(redis, limit) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0' && keys.length < limit);
  return keys.slice(0, limit);
}

/** Seed 000's loop: for each key, GET, PTTL and one SELECT, one after another. */
async function naive(redis, db) {
  const keys = await scanKeys(redis, NAIVE_KEYS);
  const started = performance.now();
  let differ = 0;
  for (const key of keys) {
    const value = await redis.get(key);
    await redis.pttl(key);
    const id = key.slice(PREFIX.length);
    const { rows } = await db.query(`SELECT * FROM ${SCHEMA}.items WHERE id = $1`, [id]);
    const cached = JSON.parse(value);
    const row = rows[0];
    if (cached.name !== row.name || cached.email !== row.email || Number(cached.price) !== Number(row.price)) differ++;
  }
  return { keys: keys.length, ms: performance.now() - started, differ };
}

/** The raw I/O an audit cannot avoid: SCAN, pipelined GET + PTTL, one = ANY($1) per batch, no comparison. */
async function floor(redis, pool) {
  const started = performance.now();
  let done = 0;
  const inflight = new Set();
  const readBatch = async (keys) => {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.getBuffer(key).pttl(key);
    await pipe.exec();
    const ids = keys.map((k) => k.slice(PREFIX.length));
    const client = await pool.connect();
    try {
      await client.query(`SELECT * FROM ${SCHEMA}.items WHERE id = ANY($1)`, [ids]);
    } finally {
      client.release();
    }
    done += keys.length;
  };
  let pending = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    pending.push(...keys);
    while (pending.length >= BATCH || (cursor === '0' && pending.length > 0)) {
      const batch = pending.slice(0, BATCH);
      pending = pending.slice(BATCH);
      while (inflight.size >= CONCURRENCY) await Promise.race(inflight);
      const task = readBatch(batch).finally(() => inflight.delete(task));
      inflight.add(task);
    }
  } while (cursor !== '0');
  await Promise.all(inflight);
  return { keys: done, ms: performance.now() - started };
}

async function audit(rulesFile) {
  const measure = fileURLToPath(new URL('./measure.js', import.meta.url));
  const argv = ['audit', '--rules', rulesFile, '--redis', REDIS_URL, '--all', '--format', 'json',
    '--batch', String(BATCH), '--concurrency', String(CONCURRENCY)];
  const started = performance.now();
  const child = spawn(process.execPath, [measure, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  const last = stderr.trim().split('\n').at(-1) ?? '{}';
  if (code !== 0 && code !== 1) throw new Error(`audit exited ${code}:\n${stderr}`);
  return { ms, code, report: JSON.parse(stdout), maxRssBytes: JSON.parse(last).maxRssBytes };
}

const redis = new Redis(REDIS_URL);
const db = new pg.Client({ connectionString: PG_URL });
const pool = new pg.Pool({ connectionString: PG_URL, max: CONCURRENCY * 2 });
const dir = await mkdtemp(join(tmpdir(), 'shadowcheck-bench-'));
try {
  await db.connect();
  await seed(redis, db);
  const rulesFile = join(dir, 'bench.yaml');
  await writeFile(
    rulesFile,
    `version: 1
sources:
  main: { kind: postgres, url: "${PG_URL}" }
families:
  - name: bench-item
    pattern: "${PREFIX}{id}"
    source: main
    table: ${SCHEMA}.items
    key: id
    fields: [name, email, price]
    version: version
    updatedAt: updated_at
    ttl: ${TTL_S}s
`,
  );

  log('measuring the I/O floor...');
  const f = await floor(redis, pool);
  log('measuring shadowcheck audit --all...');
  const a = await audit(rulesFile);
  log(`measuring the naive loop on ${NAIVE_KEYS} keys...`);
  const n = await naive(redis, db);

  const planted = new Set();
  for (let id = STALE_EVERY; id <= KEYS; id += STALE_EVERY) planted.add(`${PREFIX}${id}`);
  const found = new Set(a.report.findings.map((x) => x.key));
  const exact = found.size === planted.size && [...planted].every((k) => found.has(k));
  const summary = a.report.summary;

  const figures = {
    keys: KEYS,
    machine: `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
    batch: BATCH,
    concurrency: CONCURRENCY,
    naiveKeysPerSecond: Math.round(perSecond(n.keys, n.ms)),
    floorKeysPerSecond: Math.round(perSecond(f.keys, f.ms)),
    // The audit's own duration (connect to report), measured like naive and floor from their first
    // command; the wall time adds node's start and module loading (~0.4 s), printed beside it.
    auditKeysPerSecond: Math.round(perSecond(summary.sampled, a.report.durationMs)),
    auditSeconds: Number((a.report.durationMs / 1000).toFixed(2)),
    auditWallKeysPerSecond: Math.round(perSecond(summary.sampled, a.ms)),
    auditWallSeconds: Number((a.ms / 1000).toFixed(2)),
    auditPeakRssMB: Math.round(a.maxRssBytes / 2 ** 20),
    plantedStale: planted.size,
    nonMatchFound: found.size,
    verdictsExact: exact,
  };
  figures.auditOverNaive = Number((figures.auditKeysPerSecond / figures.naiveKeysPerSecond).toFixed(1));
  figures.auditOverFloor = Number((figures.auditKeysPerSecond / figures.floorKeysPerSecond).toFixed(2));

  if (args.json) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else {
    const rows = [
      ['keys', `${KEYS} (${planted.size} planted stale), batch ${BATCH}, concurrency ${CONCURRENCY}`],
      ['machine', figures.machine],
      ['naive', `${figures.naiveKeysPerSecond} keys/s (sequential GET + PTTL + SELECT, ${n.keys}-key subset)`],
      ['floor', `${figures.floorKeysPerSecond} keys/s (pipelined SCAN + GET + PTTL, one = ANY($1) per batch)`],
      ['audit', `${figures.auditKeysPerSecond} keys/s (shadowcheck audit --all: ${figures.auditSeconds} s from connect to report, peak RSS ${figures.auditPeakRssMB} MB)`],
      ['audit wall', `${figures.auditWallKeysPerSecond} keys/s (${figures.auditWallSeconds} s including node start and module loading)`],
      ['audit/naive', `${figures.auditOverNaive}x`],
      ['audit/floor', `${figures.auditOverFloor}`],
      ['verdicts', `${found.size} non-match found for ${planted.size} planted: ${exact ? 'exactly the planted keys' : 'MISMATCH'}`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
  }
  if (!exact) process.exitCode = 1;
} finally {
  redis.disconnect();
  await db.end();
  await pool.end();
  await rm(dir, { recursive: true, force: true });
}
