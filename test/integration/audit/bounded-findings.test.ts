/**
 * Findings keep bounded excerpts, not whole values: 300 cached values of ~900 kB that all differ
 * from their rows are audited with `--format json`. Before, every finding kept its whole value
 * (1.3 GB of memory, and past about 550 such keys the report was lost to `Invalid string length`);
 * now the report is written, every diff value is at most MAX_EXCERPT_CHARS and says it was cut,
 * a long diff keeps its first entries and counts the rest, and the process's peak RSS stays under
 * a bound set by the batch size, not by the number or size of the values.
 *
 * Isolation: a redis-server of its own on a free port (killed in afterAll), a `sc_<hex>` schema and
 * a temp dir, all removed afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EXCERPT_CHARS } from '../../../src/core/display.js';
import { BIN, ROOT } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const PREFIX = 'big:doc:';
const KEYS = 300;
const VALUE_CHARS = 900_000;
const TAGS = 40;
const BATCH = 10;
/**
 * Peak RSS allowed: the CLI's own ~150 MB (measured on a run of small values), plus room for the
 * values of the batch in flight as raw bytes, decoded text and garbage V8 has not yet collected
 * (25 times a batch's bytes; measured: ~200-250 MB in all, against ~1.3 GB before the fix).
 */
const MAX_RSS_MB = 150 + (25 * BATCH * VALUE_CHARS) / 1e6;

let server: RedisServer;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

beforeAll(async () => {
  server = await startRedisServer();
  pg = await createPgSandbox();
  const table = pg.table('docs');
  await pg.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, body text NOT NULL, tags jsonb NOT NULL)`);
  await pg.exec(`INSERT INTO ${table} SELECT g, 'row body ' || g, '[]' FROM generate_series(1, ${KEYS}) g`);
  const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    const filler = 'x'.repeat(VALUE_CHARS);
    const tags = Array.from({ length: TAGS }, (_, i) => i);
    for (let first = 1; first <= KEYS; first += 20) {
      const pipe = redis.pipeline();
      for (let id = first; id < first + 20 && id <= KEYS; id++) pipe.set(`${PREFIX}${id}`, JSON.stringify({ id, body: `cached ${id} ${filler}`, tags }));
      await pipe.exec();
    }
  } finally {
    redis.disconnect();
  }
  dir = await makeTempDir('sc-bounded-');
  rules = await dir.write(
    'rules.yaml',
    ['version: 1', 'sources:', `  main: { kind: postgres, url: "${pg.url}" }`, 'families:', '  - name: doc', `    pattern: "${PREFIX}{id}"`,
      '    source: main', `    table: ${table}`, '    key: id', '    fields: [body, tags]', '    ttl: 300s', ''].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await server?.kill();
  await pg?.drop();
  await dir?.remove();
});

/** Runs the built CLI under GNU time, which writes the peak RSS (kB) to a file of its own. */
function runMeasured(args: readonly string[]): Promise<{ code: number | null; stderr: string; peakRssMb: number }> {
  const rssFile = dir.file('peak-rss');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      readFile(rssFile, 'utf8').then((text) => resolve({ code, stderr, peakRssMb: Number(/(\d+)\s*$/.exec(text)?.[1]) / 1024 }), reject);
    });
  });
}

interface Report {
  findings: { key: string; diff: { path: string; cache: unknown; source: unknown }[]; diffOmitted?: number }[];
}

describe.runIf(existsSync('/usr/bin/time'))('findings keep bounded excerpts of large values', () => {
  it(`300 values of 900 kB: the json report is written, diffs are cut, peak RSS stays under ${Math.round(MAX_RSS_MB)} MB`, async () => {
    const output = dir.file('report.json');
    const result = await runMeasured([
      'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`, '--all', '--format', 'json', '--output', output,
      '--confirm-delay', '0', '--batch', String(BATCH), '--concurrency', '1',
    ]);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(await readFile(output, 'utf8')) as Report;
    expect(report.findings).toHaveLength(KEYS);
    for (const finding of report.findings) {
      const body = finding.diff.find((d) => d.path === 'body');
      expect(body?.cache).toMatch(/^cached \d+ x+… \(cut, 900 kB\)$/);
      for (const d of finding.diff) {
        for (const value of [d.cache, d.source]) expect(JSON.stringify(value).length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS + 2);
      }
      // body and the 40 elements of tags differ; the finding keeps the first 20 and counts the rest.
      expect(finding.diff.length + (finding.diffOmitted ?? 0)).toBe(1 + TAGS);
      expect(finding.diff.length).toBeLessThanOrEqual(20);
    }
    expect(result.peakRssMb).toBeLessThan(MAX_RSS_MB);
  }, 60_000);
});
