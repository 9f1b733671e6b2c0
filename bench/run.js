// npm run bench [-- --keys N | --series 200000,1000000] [--repeat N] [--naive-keys N] [--batch N] [--concurrency N] [--json]
//
// Seeds N keys over two families, into a Redis and a schema/database the benchmark owns:
//   bench:item:{id}     JSON strings, rows in PostgreSQL (shadowcheck_bench_<random>.items)
//   bench:product:{pid} Redis hashes, rows in MariaDB    (shadowcheck_bench_<random>.products)
// with 1% of each family planted stale (no TTL, an old value). Then measures in one run:
//   naive: the per-key shadow read of seed 000 (GET/HGETALL, PTTL, one SELECT per key, sequential), on a subset;
//   floor: the raw I/O (pipelined SCAN + GET/HGETALL + PTTL, one batched query per batch), no comparison;
//   audit: `shadowcheck audit --all`, in its own process (peak RSS measured there, and what V8's
//          heap and Buffers held at that peak);
//   modules: peak RSS of node holding the audit's modules and nothing read (the RSS baseline).
// It prints keys/s for each, audit/naive and audit/floor, peak RSS, and checks that exactly the
// planted keys were reported non-match. --series runs the floor and the audit at each size;
// --repeat runs each floor and audit that many times, alternating, and prints the range (the
// machine is shared: one run is no figure).
//
// Redis is a private redis-server on a free port (as bench/large-values.js), so nothing of the
// shared server is touched and two benches never meet; SHADOWCHECK_BENCH_REDIS_URL points it at
// another server's logical database instead, which the bench then claims with an owner key.
// The schema/database name is random per run for the same reason; both are dropped at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { auditAll, modulesOnly } from './audit-child.js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { freePort } from './free-port.js';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    series: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    'naive-keys': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const SIZES = (args.series ?? args.keys).split(',').map(Number);
const REPEAT = Math.max(1, Number(args.repeat));
const NAIVE_KEYS = Number(args['naive-keys']);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const SHARED_REDIS_URL = process.env.SHADOWCHECK_BENCH_REDIS_URL;
const PG_URL = process.env.SHADOWCHECK_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.SHADOWCHECK_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const SCHEMA = `shadowcheck_bench_${randomBytes(4).toString('hex')}`;
const OWNER_KEY = 'shadowcheck-bench:owner';
const ITEM = 'bench:item:';
const PRODUCT = 'bench:product:';
const STALE_EVERY = 100; // 1% of each family: ids divisible by 100
const TTL_S = 3600;

const log = (line) => process.stderr.write(`${line}\n`);
const perSecond = (n, ms) => (n * 1000) / ms;
const split = (keys) => ({ items: Math.ceil(keys / 2), products: Math.floor(keys / 2) });
const itemJson = (id, stale) => JSON.stringify({ id, name: stale ? `Item ${id} (old)` : `Item ${id}`, email: `item${id}@example.com`, price: (id % 1000) + 0.5, version: 1 + (id % 7) });
const productHash = (id, stale) => ({ name: `Product ${id}`, price: stale ? '0.99' : String((id % 1000) + 0.25), in_stock: id % 2 === 0 ? 'true' : 'false' });

async function clearRedis(redis) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'bench:*', 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}


/** The bench's own redis-server, or the shared one's database when SHADOWCHECK_BENCH_REDIS_URL says so. */
async function startRedis(dir) {
  if (SHARED_REDIS_URL !== undefined) return { url: SHARED_REDIS_URL, stop: async () => {} };
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      server.kill('SIGTERM');
      await exited;
    },
  };
}

async function seed(keys, redis, db, my) {
  if ((await redis.exists(OWNER_KEY)) === 0 && (await redis.dbsize()) > 0) {
    throw new Error(`${redisUrl} holds keys that are not the benchmark's; set SHADOWCHECK_BENCH_REDIS_URL to an empty database`);
  }
  await redis.set(OWNER_KEY, 'this logical database belongs to `npm run bench`');
  const { items, products } = split(keys);
  const started = Date.now();
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await db.query(`DROP TABLE IF EXISTS ${SCHEMA}.items`);
  await db.query(`CREATE TABLE ${SCHEMA}.items (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL,
    price numeric(10,2) NOT NULL, version integer NOT NULL, updated_at timestamptz(3) NOT NULL)`);
  await db.query(
    `INSERT INTO ${SCHEMA}.items SELECT i, 'Item ' || i, 'item' || i || '@example.com', (i % 1000) + 0.5, 1 + i % 7,
       now() - interval '2 hours' FROM generate_series(1, $1) AS i`,
    [items],
  );
  await db.query(`ANALYZE ${SCHEMA}.items`);
  await my.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await my.query(`DROP TABLE IF EXISTS ${SCHEMA}.products`);
  await my.query(`CREATE TABLE ${SCHEMA}.products (pid INT PRIMARY KEY, name VARCHAR(64) NOT NULL, price DECIMAL(10,2) NOT NULL,
    in_stock TINYINT(1) NOT NULL, updated_at DATETIME(3) NOT NULL)`);
  if (products > 0) {
    await my.query(
      `INSERT INTO ${SCHEMA}.products SELECT seq, CONCAT('Product ', seq), (seq % 1000) + 0.25, 1 - (seq % 2),
         UTC_TIMESTAMP(3) - INTERVAL 2 HOUR FROM seq_1_to_${products}`,
    );
  }

  await clearRedis(redis);
  for (let from = 1; from <= Math.max(items, products); from += 10_000) {
    const pipe = redis.pipeline();
    for (let id = from; id < from + 10_000; id++) {
      const stale = id % STALE_EVERY === 0;
      if (id <= items) {
        if (stale) pipe.set(`${ITEM}${id}`, itemJson(id, true));
        else pipe.set(`${ITEM}${id}`, itemJson(id, false), 'EX', TTL_S);
      }
      if (id <= products) {
        pipe.hset(`${PRODUCT}${id}`, productHash(id, stale));
        if (!stale) pipe.expire(`${PRODUCT}${id}`, TTL_S);
      }
    }
    await pipe.exec();
  }
  log(`seeded ${keys} keys (${items} JSON on PostgreSQL, ${products} hashes on MariaDB; 1% planted stale) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function scanKeys(redis, match, limit) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0' && keys.length < limit);
  return keys.slice(0, limit);
}

/** Seed 000's loop: for each key, GET (or HGETALL), PTTL and one SELECT, one after another. */
async function naive(redis, db, my) {
  const half = Math.ceil(NAIVE_KEYS / 2);
  const items = await scanKeys(redis, `${ITEM}*`, half);
  const products = await scanKeys(redis, `${PRODUCT}*`, half);
  const started = performance.now();
  let differ = 0;
  for (const key of items) {
    const value = await redis.get(key);
    await redis.pttl(key);
    const { rows } = await db.query(`SELECT * FROM ${SCHEMA}.items WHERE id = $1`, [key.slice(ITEM.length)]);
    const cached = JSON.parse(value);
    if (cached.name !== rows[0].name || Number(cached.price) !== Number(rows[0].price)) differ++;
  }
  for (const key of products) {
    const value = await redis.hgetall(key);
    await redis.pttl(key);
    const [rows] = await my.query(`SELECT * FROM ${SCHEMA}.products WHERE pid = ?`, [key.slice(PRODUCT.length)]);
    if (value.name !== rows[0].name || Number(value.price) !== Number(rows[0].price)) differ++;
  }
  return { keys: items.length + products.length, ms: performance.now() - started, differ };
}

/** The raw I/O an audit cannot avoid: SCAN, pipelined reads + PTTL, one batched query per batch, no comparison. */
async function floor(redis, pool, myPool) {
  const started = performance.now();
  let done = 0;
  const inflight = new Set();
  const families = [
    {
      match: `${ITEM}*`,
      read: (pipe, key) => pipe.getBuffer(key).pttl(key),
      query: async (ids) => {
        const client = await pool.connect();
        try {
          await client.query(`SELECT * FROM ${SCHEMA}.items WHERE id = ANY($1)`, [ids]);
        } finally {
          client.release();
        }
      },
      prefix: ITEM,
    },
    {
      match: `${PRODUCT}*`,
      read: (pipe, key) => pipe.hgetallBuffer(key).pttl(key),
      query: (ids) => myPool.query(`SELECT * FROM ${SCHEMA}.products WHERE pid IN (?)`, [ids]),
      prefix: PRODUCT,
    },
  ];
  for (const family of families) {
    const readBatch = async (keys) => {
      const pipe = redis.pipeline();
      for (const key of keys) family.read(pipe, key);
      await pipe.exec();
      await family.query(keys.map((k) => k.slice(family.prefix.length)));
      done += keys.length;
    };
    let pending = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', family.match, 'COUNT', 1000);
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
  }
  return { keys: done, ms: performance.now() - started };
}



function plantedKeys(keys) {
  const { items, products } = split(keys);
  const planted = new Set();
  for (let id = STALE_EVERY; id <= items; id += STALE_EVERY) planted.add(`${ITEM}${id}`);
  for (let id = STALE_EVERY; id <= products; id += STALE_EVERY) planted.add(`${PRODUCT}${id}`);
  return planted;
}

const range = (values, digits = 0) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const fmt = (v) => (digits === 0 ? String(Math.round(v)) : v.toFixed(digits));
  return fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
};
const mb = (bytes) => bytes / 2 ** 20;

const dir = await mkdtemp(join(tmpdir(), 'shadowcheck-bench-'));
const redisServer = await startRedis(dir);
const redisUrl = redisServer.url;
// Retries while a private server starts; commands wait for the connection.
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
redis.on('error', () => {});
const db = new pg.Client({ connectionString: PG_URL });
const pool = new pg.Pool({ connectionString: PG_URL, max: CONCURRENCY * 2 });
const my = await mysql.createConnection({ uri: MYSQL_URL });
const myPool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: CONCURRENCY * 2 });
try {
  await db.connect();
  await redis.ping();
  const rulesFile = join(dir, 'bench.yaml');
  await writeFile(
    rulesFile,
    `version: 1
sources:
  main: { kind: postgres, url: "${PG_URL}" }
  shop: { kind: mysql, url: "${MYSQL_URL}" }
families:
  - name: bench-item
    pattern: "${ITEM}{id}"
    source: main
    table: ${SCHEMA}.items
    key: id
    fields: [name, email, price]
    version: version
    updatedAt: updated_at
    ttl: ${TTL_S}s
  - name: bench-product
    pattern: "${PRODUCT}{pid}"
    type: hash
    source: shop
    table: ${SCHEMA}.products
    key: pid
    fields: [name, price, in_stock]
    updatedAt: updated_at
    ttl: ${TTL_S}s
`,
  );

  const modulesRss = [];
  for (let i = 0; i < REPEAT; i++) modulesRss.push(await modulesOnly());
  const rows = [];
  let naiveResult;
  for (const keys of SIZES) {
    await seed(keys, redis, db, my);
    const planted = plantedKeys(keys);
    const runs = [];
    for (let i = 0; i < REPEAT; i++) {
      log(`${keys} keys: measuring the I/O floor (${i + 1}/${REPEAT})...`);
      const f = await floor(redis, pool, myPool);
      log(`${keys} keys: measuring shadowcheck audit --all (${i + 1}/${REPEAT})...`);
      const a = await auditAll({ rulesFile, redisUrl, batch: BATCH, concurrency: CONCURRENCY });
      const found = new Set(a.report.findings.map((x) => x.key));
      const floorKps = perSecond(f.keys, f.ms);
      // The audit's own duration (connect to report), measured like naive and floor from their first
      // command; the wall time adds node's start and module loading, reported beside it.
      const auditKps = perSecond(a.report.summary.sampled, a.report.durationMs);
      runs.push({
        floorKps,
        auditKps,
        auditSeconds: a.report.durationMs / 1000,
        auditWallSeconds: a.ms / 1000,
        peakRssMB: mb(a.maxRssBytes),
        atPeak: a.atPeak,
        found,
        exact: found.size === planted.size && [...planted].every((k) => found.has(k)),
      });
    }
    if (naiveResult === undefined) {
      log(`measuring the naive loop on ${NAIVE_KEYS} keys...`);
      naiveResult = await naive(redis, db, my);
    }
    const naiveKps = perSecond(naiveResult.keys, naiveResult.ms);
    const of = (pick) => runs.map(pick);
    rows.push({
      keys,
      naiveKeysPerSecond: Math.round(naiveKps),
      floorKeysPerSecond: of((r) => Math.round(r.floorKps)),
      auditKeysPerSecond: of((r) => Math.round(r.auditKps)),
      auditSeconds: of((r) => Number(r.auditSeconds.toFixed(2))),
      auditWallSeconds: of((r) => Number(r.auditWallSeconds.toFixed(2))),
      auditPeakRssMB: of((r) => Math.round(r.peakRssMB)),
      // What the peak held: V8's heap in use and reserved, Buffers outside it, and RSS at that sample.
      atPeakMB: of((r) => ({
        rss: Math.round(mb(r.atPeak.rss)),
        heapUsed: Math.round(mb(r.atPeak.heapUsed)),
        heapTotal: Math.round(mb(r.atPeak.heapTotal)),
        arrayBuffers: Math.round(mb(r.atPeak.arrayBuffers)),
      })),
      modulesOnlyRssMB: modulesRss.map((b) => Math.round(mb(b))),
      auditOverNaive: of((r) => Number((r.auditKps / naiveKps).toFixed(1))),
      auditOverFloor: of((r) => Number((r.auditKps / r.floorKps).toFixed(2))),
      plantedStale: planted.size,
      nonMatchFound: of((r) => r.found.size),
      verdictsExact: runs.every((r) => r.exact),
    });
  }
  const machine = `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ machine, batch: BATCH, concurrency: CONCURRENCY, repeat: REPEAT, runs: rows })}\n`);
  } else {
    process.stdout.write(`machine      ${machine}; two families (JSON on PostgreSQL, hashes on MariaDB), batch ${BATCH}, concurrency ${CONCURRENCY}, ${REPEAT} run(s) each (min-max)\n`);
    process.stdout.write(`naive        ${rows[0]?.naiveKeysPerSecond} keys/s (sequential GET/HGETALL + PTTL + SELECT per key, ${naiveResult?.keys}-key subset)\n`);
    process.stdout.write(`modules only ${range(modulesRss.map(mb))} MB peak RSS (node with the audit's modules loaded, nothing read)\n\n`);
    const head = ['keys', 'floor keys/s', 'audit keys/s', 'audit s', 'wall s', 'audit/naive', 'audit/floor', 'peak RSS MB', 'at peak: heap used/total, buffers MB', 'verdicts'];
    process.stdout.write(`${head.join(' | ')}\n`);
    for (const r of rows) {
      const verdicts = r.verdictsExact ? `exact (${r.plantedStale} planted found)` : `MISMATCH: ${r.nonMatchFound.join(',')} found, ${r.plantedStale} planted`;
      const atPeak = r.atPeakMB.map((p) => `${p.heapUsed}/${p.heapTotal}, ${p.arrayBuffers}`).join('; ');
      process.stdout.write(
        `${[
          r.keys,
          range(r.floorKeysPerSecond),
          range(r.auditKeysPerSecond),
          range(r.auditSeconds, 2),
          range(r.auditWallSeconds, 2),
          `${range(r.auditOverNaive, 1)}x`,
          range(r.auditOverFloor, 2),
          range(r.auditPeakRssMB),
          atPeak,
          verdicts,
        ].join(' | ')}\n`,
      );
    }
    if (rows.length > 1) {
      const first = rows[0];
      const last = rows.at(-1);
      const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      process.stdout.write(
        `\npeak RSS at ${last.keys} keys = ${(median(last.auditPeakRssMB) / median(first.auditPeakRssMB)).toFixed(2)} x the ${first.keys}-key figure (medians)\n`,
      );
    }
  }
  if (rows.some((r) => !r.verdictsExact)) process.exitCode = 1;
} finally {
  // The bench's data is its own: leave no schema behind for other tools (init) to find.
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => {});
  await my.query(`DROP DATABASE IF EXISTS ${SCHEMA}`).catch(() => {});
  if ((await redis.exists(OWNER_KEY).catch(() => 0)) === 1) await clearRedis(redis).then(() => redis.unlink(OWNER_KEY)).catch(() => {});
  redis.disconnect();
  await redisServer.stop();
  await db.end();
  await pool.end();
  await my.end();
  await myPool.end();
  await rm(dir, { recursive: true, force: true });
}
