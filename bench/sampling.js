// npm run bench:sampling [-- --sizes 1e6,5e6,2e7] [--sample 1000] [--methods auto] [--seed 1] [--json]
//
// What a `--sample` audit costs as the keyspace grows (issue 16). Starts a private redis-server on
// a free port (`--enable-debug-command yes`, nothing of the shared Redis is touched) and grows one
// keyspace through --sizes with DEBUG POPULATE, which names its keys `prefix:N` (N from 0):
//   hot:{id}    10% of the keys   the family a sample should find cheaply
//   rare:{id}   0.1% of the keys  the family too rare for RANDOMKEY to find cheaply
//   other:{n}   the rest          filler no family covers
// The source is a `kind: module` loader written into a temp dir that answers every id at once
// with the row DEBUG POPULATE's value spells (`value:N`), so every key matches and no database is
// involved. For each size, family and method (--methods, beside the full-SCAN reservoir
// `--sampling scan` measured in the same run) it runs `shadowcheck audit --family F --sample S
// --format ndjson` (every judged key is a line, match included) and prints:
//   wall   the CLI process from spawn to exit (node's start included);
//   Redis  INFO commandstats diffed around the run: calls per command and the server's CPU time
//          (usec), INFO itself left out (the bench's own snapshots are INFO calls);
//   chi²   Pearson's statistic of the sampled ids over 20 equal buckets of the family's id range,
//          and its p-value (19 degrees of freedom): uniformity is rejected below p = 0.01.
// and a line on the issue's targets. A build without `--sampling` (audit --help does not list it)
// still runs: the baseline is then the audit as it is (a full-SCAN reservoir) and the methods
// print as not available.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cliNodeFlags } from './audit-child.js';
import { uniformity } from './chi-square.js';
import { freePort } from './free-port.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1e6,5e6,2e7' },
    sample: { type: 'string', default: '1000' },
    methods: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const SIZES = args.sizes.split(',').map((s) => Math.round(Number(s))).sort((a, b) => a - b);
if (SIZES.some((n) => !Number.isSafeInteger(n) || n < 1000)) throw new Error(`--sizes takes key counts >= 1000, e.g. 1e6,5e6; got ${args.sizes}`);
const SAMPLE = Number(args.sample);
const METHODS = args.methods.split(',').filter((m) => m !== 'scan');
const SEED = Number(args.seed);
const FAMILIES = [
  { name: 'hot', share: 0.1 },
  { name: 'rare', share: 0.001 },
];
const CLI = fileURLToPath(new URL('../bin/shadowcheck.js', import.meta.url));
const DIST_INDEX = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

const log = (line) => process.stderr.write(`${line}\n`);
const familySize = (keys, share) => Math.round(keys * share);


// The family sizes of the keyspace being measured reach the loader through this variable.
const FAMILY_ROWS_ENV = 'SHADOWCHECK_BENCH_FAMILY_ROWS';
const loaderModule = `// Written by bench/sampling.js: every id has the row DEBUG POPULATE's value spells, at once;
// sampleIds (for --sampling source) draws distinct ids of the family's range, seeded.
import { toBatch } from '${DIST_INDEX}';
const familyRows = JSON.parse(process.env.${FAMILY_ROWS_ENV} ?? '{}');
export default async function createLoader() {
  return {
    async load(rule, ids) {
      return toBatch(ids.map((id) => ({ id, v: 'value:' + id })), rule.key, Date.now());
    },
    async sampleIds(rule, count, seed) {
      const rows = familyRows[rule.table] ?? 0;
      let state = seed >>> 0;
      const next = () => {
        // mulberry32
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const ids = new Set();
      while (ids.size < Math.min(count, rows)) ids.add(Math.floor(next() * rows));
      return { ids: [...ids].map(String), tableRows: rows };
    },
    async close() {},
  };
}
`;

const rulesFile = `version: 1
sources:
  bench: { kind: module, module: ./bench-loader.js }
families:
${FAMILIES.map((f) => `  - { name: ${f.name}, pattern: "${f.name}:{id}", codec: raw, fields: [v], source: bench, table: ${f.name}, key: id, ttl: 1h }`).join('\n')}
`;

/** INFO commandstats as { command: { calls, usec } }. */
async function commandStats(redis) {
  const stats = {};
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m !== null) stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

function statsDiff(before, after) {
  const calls = {};
  let usec = 0;
  for (const [command, a] of Object.entries(after)) {
    if (command === 'info') continue;
    const b = before[command] ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) calls[command] = a.calls - b.calls;
    usec += a.usec - b.usec;
  }
  return { calls, totalCalls: Object.values(calls).reduce((s, n) => s + n, 0), usec };
}

let running; // the audit child, killed on SIGINT

/** One `shadowcheck audit` run: exit code, wall ms, stdout, stderr. */
function runCli(argv, env = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [...cliNodeFlags(), CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  running = child;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      running = undefined;
      resolve({ code, ms: performance.now() - started, stdout, stderr });
    }),
  );
}

async function supportsSamplingFlag() {
  const help = await runCli(['audit', '--help']);
  return /--sampling\b/.test(help.stdout + help.stderr);
}

/** Audits one family's --sample with `method` (undefined: no --sampling flag) and measures it. */
async function measure(redis, ctx, family, keys, method) {
  const argv = ['audit', '--rules', ctx.rules, '--redis', ctx.url, '--family', family.name, '--sample', String(SAMPLE), '--seed', String(SEED), '--format', 'ndjson'];
  if (method !== undefined) argv.push('--sampling', method);
  const before = await commandStats(redis);
  const rows = Object.fromEntries(FAMILIES.map((f) => [f.name, familySize(keys, f.share)]));
  const run = await runCli(argv, { [FAMILY_ROWS_ENV]: JSON.stringify(rows) });
  const redisUse = statsDiff(before, await commandStats(redis));
  if (run.code === 2 && /unknown option/i.test(run.stderr)) return { method, unavailable: true };
  if (run.code !== 0 && run.code !== 1) throw new Error(`audit ${argv.join(' ')} exited ${run.code}:\n${run.stderr}`);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const ids = lines.filter((l) => l.type === 'key').map((l) => Number(l.key.slice(family.name.length + 1)));
  const summary = lines.find((l) => l.type === 'summary');
  const sampling = summary?.families?.find((f) => f.name === family.name)?.sampling;
  return {
    method: method ?? 'scan (default)',
    chosen: sampling?.method,
    why: sampling?.why,
    reported: sampling === undefined ? undefined : { examined: sampling.examined, redisCalls: sampling.redisCalls },
    sampled: ids.length,
    distinct: new Set(ids).size,
    match: lines.filter((l) => l.type === 'key' && l.verdict === 'match').length,
    wallMs: run.ms,
    ...redisUse,
    chi: uniformity(ids, familySize(keys, family.share)),
  };
}

async function populate(redis, keys) {
  const started = performance.now();
  let covered = 0;
  for (const f of FAMILIES) {
    await redis.call('DEBUG', 'POPULATE', String(familySize(keys, f.share)), f.name);
    covered += familySize(keys, f.share);
  }
  await redis.call('DEBUG', 'POPULATE', String(keys - covered), 'other');
  const dbsize = await redis.dbsize();
  if (dbsize !== keys) throw new Error(`DEBUG POPULATE made ${dbsize} keys, expected ${keys}`);
  log(`keyspace ${keys.toLocaleString('en')} keys (hot ${familySize(keys, 0.1)}, rare ${familySize(keys, 0.001)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const fmt = {
  s: (ms) => (ms / 1000).toFixed(2),
  ms: (usec) => (usec / 1000).toFixed(1),
  ratio: (a, b) => (b > 0 ? `${((a / b) * 100).toFixed(1)}%` : '-'),
  commands: (calls) =>
    Object.entries(calls)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', '),
};

function printTable(results, startMs) {
  const out = [];
  out.push(`--sample ${SAMPLE}, --seed ${SEED}; wall = the CLI process, node's start included (\`shadowcheck --version\` took ${fmt.s(startMs)} s here)`);
  out.push('Redis calls and ms: INFO commandstats calls and usec diffed around each run (INFO left out); % = of the full-SCAN reservoir in the same run');
  const head = ['keys', 'family', 'method', 'chosen', 'sampled', 'wall s', 'Redis calls', 'Redis ms', 'chi²', 'p', 'wall %', 'Redis ms %', 'commands'];
  const rows = [head];
  for (const r of results) {
    const base = r.scan;
    for (const m of [r.scan, ...r.methods]) {
      if (m.unavailable) {
        rows.push([r.keys.toLocaleString('en'), r.family, m.method, '-', '', '', '', '', '', '', '', '', 'not available: this build has no --sampling']);
        continue;
      }
      const isBase = m === base;
      rows.push([
        r.keys.toLocaleString('en'),
        r.family,
        m.method,
        m.chosen ?? '-',
        `${m.sampled}${m.distinct === m.sampled ? '' : ` (${m.distinct} distinct)`}`,
        fmt.s(m.wallMs),
        String(m.totalCalls),
        fmt.ms(m.usec),
        m.chi.statistic.toFixed(1),
        m.chi.p.toFixed(3),
        isBase ? '' : fmt.ratio(m.wallMs, base.wallMs),
        isBase ? '' : fmt.ratio(m.usec, base.usec),
        fmt.commands(m.calls),
      ]);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  for (const row of rows) out.push(row.map((cell, i) => String(cell).padEnd(i === row.length - 1 ? 0 : widths[i])).join('  ').trimEnd());
  // The planner's reasons, as the report states them.
  for (const r of results) {
    for (const m of r.methods) if (m.why !== undefined) out.push(`${r.keys.toLocaleString('en')} ${r.family} ${m.method} -> ${m.chosen}: ${m.why}`);
  }
  return out.join('\n');
}

/** The issue's targets for the first of --methods (the planner, `auto`, by default), on the sizes measured: one line. */
function targets(results) {
  const method = METHODS[0];
  const of = (r) => r.methods.find((m) => m.method === method);
  const parts = [];
  const hot = results.filter((r) => r.family === 'hot');
  const hotLarge = hot.filter((r) => r.keys >= 5e6);
  if (hotLarge.length === 0) parts.push('hot (10%) at 5M/20M: not measured (--sizes)');
  for (const r of hotLarge) {
    const m = of(r);
    if (m.unavailable) {
      parts.push(`hot ${r.keys / 1e6}M: not available`);
      continue;
    }
    const share = m.usec / r.scan.usec;
    const met = share <= 0.05 && m.wallMs <= 2000 && m.chi.p >= 0.01;
    parts.push(`hot ${r.keys / 1e6}M: Redis ${(share * 100).toFixed(1)}% of scan (<=5%), ${fmt.s(m.wallMs)} s (<=2 s), p ${m.chi.p.toFixed(3)} (>=0.01): ${met ? 'MET' : 'NOT MET'}`);
  }
  const hotMeasured = hot.filter((r) => !of(r).unavailable);
  if (hotMeasured.length > 1) parts.push(`hot Redis ms by size ${hotMeasured.map((r) => `${r.keys / 1e6}M ${fmt.ms(of(r).usec)}`).join(', ')} (scan: ${hotMeasured.map((r) => fmt.ms(r.scan.usec)).join(', ')})`);
  const rare = results.filter((r) => r.family === 'rare');
  if (rare.some((r) => of(r).unavailable)) parts.push('rare (0.1%): not available');
  else {
    // "No slower" on a shared machine: wall time within 10% of the scan's, for noise.
    const slower = rare.filter((r) => of(r).wallMs > r.scan.wallMs * 1.1);
    parts.push(`rare (0.1%) no slower than scan (wall, 10% allowance): ${slower.length === 0 ? 'MET' : `NOT MET at ${slower.map((r) => `${r.keys / 1e6}M`).join(', ')}`}`);
  }
  return `targets (${method}): ${parts.join('; ')}`;
}

const dir = await mkdtemp(join(tmpdir(), 'shadowcheck-bench-sampling-'));
const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', '--dir', dir], { stdio: 'ignore' });
const serverExited = new Promise((resolve) => server.once('exit', resolve));
const url = `redis://127.0.0.1:${port}/0`;
let cleaned;
function cleanup() {
  cleaned ??= (async () => {
    running?.kill('SIGTERM');
    server.kill('SIGTERM');
    await serverExited;
    await rm(dir, { recursive: true, force: true });
  })();
  return cleaned;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping the benchmark's redis-server`);
    void cleanup().finally(() => process.exit(130));
  });
}

// Retries while the server starts; commands wait for the connection.
const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
redis.on('error', () => {});
try {
  await redis.ping();
  await writeFile(join(dir, 'bench-loader.js'), loaderModule);
  const rules = join(dir, 'rules.yaml');
  await writeFile(rules, rulesFile);
  const hasSampling = await supportsSamplingFlag();
  const startMs = (await runCli(['--version'])).ms;
  if (!hasSampling) log('this build has no --sampling flag: the baseline is the audit as it is (full-SCAN reservoir); the methods are not available');
  const ctx = { url, rules };
  const results = [];
  for (const keys of SIZES) {
    await populate(redis, keys);
    for (const family of FAMILIES) {
      const methods = [];
      for (const method of METHODS) {
        methods.push(hasSampling ? await measure(redis, ctx, family, keys, method) : { method, unavailable: true });
        log(`  ${family.name} ${method}: done`);
      }
      const scan = await measure(redis, ctx, family, keys, hasSampling ? 'scan' : undefined);
      log(`  ${family.name} scan: ${fmt.s(scan.wallMs)} s`);
      results.push({ keys, family: family.name, scan, methods });
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify({ sample: SAMPLE, seed: SEED, startMs, results }, null, 2)}\n`);
  else process.stdout.write(`${printTable(results, startMs)}\n${targets(results)}\n`);
} finally {
  redis.disconnect();
  await cleanup();
}
