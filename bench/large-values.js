// npm run bench:large-values [-- --keys 600 --value-bytes 900000 --batch 500 --concurrency 4]
//
// Peak memory of an audit whose cached values are large. Starts a private redis-server on a free
// port (nothing of the shared Redis is touched), writes N JSON strings of about --value-bytes each,
// and audits them against PostgreSQL rows built by the query itself (repeat(), so the database
// stores nothing large). Prints the audit's peak RSS as a ratio to the values one --batch would
// hold, and to one batch of --batch small values measured in the same run (the baseline).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { auditAll } from './audit-child.js';
import { freePort } from './free-port.js';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '600' },
    'value-bytes': { type: 'string', default: '900000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
  },
});
const KEYS = Number(args.keys);
const VALUE_BYTES = Number(args['value-bytes']);
const BATCH = Number(args.batch);
const CONCURRENCY = Number(args.concurrency);
const PG_URL = process.env.SHADOWCHECK_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';




function rules(valueBytes) {
  // The row is built by the query: {id, blob} where blob is valueBytes - 40 'x' characters.
  return `version: 1
sources:
  main: { kind: postgres, url: "${PG_URL}" }
families:
  - name: blob
    pattern: "blob:{id}"
    source: main
    ttl: 1h
    key: id
    query: "SELECT g.id, repeat('x', ${Math.max(0, valueBytes - 40)}) AS blob FROM unnest($1::bigint[]) AS g(id)"
`;
}

async function seed(redis, valueBytes) {
  const blob = 'x'.repeat(Math.max(0, valueBytes - 40));
  for (let id = 1; id <= KEYS; id += 50) {
    const pipe = redis.pipeline();
    for (let i = id; i < Math.min(id + 50, KEYS + 1); i++) pipe.set(`blob:${i}`, JSON.stringify({ id: i, blob }), 'EX', 3600);
    await pipe.exec();
  }
}

const port = await freePort();
const dir = await mkdtemp(join(tmpdir(), 'shadowcheck-bench-large-'));
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
const redisUrl = `redis://127.0.0.1:${port}/0`;
// Retries while the server starts; commands wait for the connection.
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
redis.on('error', () => {});
try {
  await redis.ping();
  const rows = [];
  for (const [label, valueBytes] of [
    ['small values (baseline)', 200],
    [`${VALUE_BYTES} B values`, VALUE_BYTES],
  ]) {
    await redis.flushdb(); // the private server only
    await seed(redis, valueBytes);
    const rulesFile = join(dir, `rules-${valueBytes}.yaml`);
    await writeFile(rulesFile, rules(valueBytes));
    const run = await auditAll({ rulesFile, redisUrl, batch: BATCH, concurrency: CONCURRENCY });
    const summary = run.report.summary ?? run.report;
    rows.push({ label, valueBytes, rssMB: run.maxRssBytes / 1e6, seconds: run.ms / 1000, match: summary.total?.match ?? summary.match });
  }
  const [base, large] = rows;
  const oneBatchMB = (Math.min(BATCH, KEYS) * VALUE_BYTES) / 1e6;
  process.stdout.write(`keys ${KEYS}, --batch ${BATCH}, --concurrency ${CONCURRENCY}\n`);
  for (const r of rows) process.stdout.write(`${r.label.padEnd(26)} peak RSS ${r.rssMB.toFixed(0).padStart(5)} MB  ${r.seconds.toFixed(1)} s  match ${r.match}\n`);
  process.stdout.write(`large/baseline peak RSS: ${(large.rssMB / base.rssMB).toFixed(2)} x; one unsplit --batch of these values would hold ${oneBatchMB.toFixed(0)} MB (${(large.rssMB / oneBatchMB).toFixed(2)} x of it)\n`);
} finally {
  redis.disconnect();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
}
