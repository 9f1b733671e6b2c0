/**
 * `shadowcheck merge` of sharded reports, one of whose shards had a whole batch fail at the source:
 * the merged gate fails with exit 4 and names it, as the unsharded run's gate would, whatever the
 * error ratio. The shard reports are written by the json reporter itself (as test/unit/core/
 * merge.test.ts does), then merged by the built CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceFailure } from '../../src/core/gate.js';
import { shardOfKey } from '../../src/core/shard.js';
import { Tally } from '../../src/core/stats.js';
import type { Finding } from '../../src/core/verdict.js';
import { createReporter } from '../../src/report/index.js';
import type { RunSummary } from '../../src/report/types.js';
import { runCli, STACK_TRACE } from './cli.js';

const FAMILIES = ['user', 'order'];
const SHARDS = 2;
const MESSAGE = 'family "order": unrecognized configuration parameter "shadowcheck.no_such_setting"';
const FAILED_KEYS = 4;

/** Every key matches, except the first FAILED_KEYS order keys of shard 1: one batch the source failed to load. */
function findings(): Finding[] {
  const all: Finding[] = [];
  let failed = 0;
  for (const family of FAMILIES) {
    for (let id = 1; id <= 60; id++) {
      const key = `${family}:${id}`;
      if (family === 'order' && shardOfKey(key, SHARDS) === 1 && failed < FAILED_KEYS) {
        failed++;
        all.push({ key, family, verdict: 'error', reason: 'source-error', step: 2, diff: [], detail: MESSAGE });
      } else {
        all.push({ key, family, verdict: 'match', step: 4, diff: [] });
      }
    }
  }
  return all;
}

/** The report `audit --shard index/2 --format json --fail-on none` writes for its part of the findings. */
async function shardReport(index: number, all: readonly Finding[], sourceFailures: SourceFailure[]): Promise<string> {
  const mine = all.filter((f) => shardOfKey(f.key, SHARDS) === index);
  const total = new Tally();
  const families = new Map(FAMILIES.map((f) => [f, new Tally()]));
  for (const f of mine) {
    total.add(f);
    families.get(f.family)?.add(f);
  }
  const run: RunSummary = {
    version: '0.1.0',
    startedAt: '2024-05-01T12:00:00.000Z',
    durationMs: 1000,
    target: { redis: 'redis://:***@cache:6379/0' },
    summary: total.counters(),
    families: FAMILIES.map((name) => ({ name, ...(families.get(name) as Tally).counters() })),
    // --fail-on none: the shard's gate passes; the failure is left to merge.
    gate: { passed: true, failures: [] },
    incomplete: false,
    shard: { index, count: SHARDS, rulesDigest: 'sha256:0123456789abcdef', minConsistency: {} },
    ...(sourceFailures.length === 0 ? {} : { sourceFailures }),
  };
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const reporter = createReporter('json', { out, color: false, maxFindings: 100_000 });
  for (const f of mine) await reporter.onFinding?.(f);
  await reporter.onEnd?.(run);
  return Buffer.concat(chunks).toString('utf8');
}

interface MergedJson {
  summary: { sampled: number; error: number };
  sourceFailures?: SourceFailure[];
  gate: { passed: boolean; failures: string[] };
}

const SENTENCE = `family order: the source query failed for a whole batch (${FAILED_KEYS} keys not judged): ${MESSAGE}`;

describe('shadowcheck merge: a shard whose source query failed for a whole batch', () => {
  let dir: string;
  let failing: string[];
  let clean: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowcheck-merge-source-'));
    const all = findings();
    const write = async (name: string, text: string): Promise<string> => {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    };
    const failure: SourceFailure = { family: 'order', batches: 1, keys: FAILED_KEYS, message: MESSAGE };
    failing = [await write('failing-0.json', await shardReport(0, all, [])), await write('failing-1.json', await shardReport(1, all, [failure]))];
    // The same run had the batch loaded: every key matches, and no report carries `sourceFailures`
    // (as a report written before the field existed does not).
    const matching = all.map((f): Finding => ({ key: f.key, family: f.family, verdict: 'match', step: 4, diff: [] }));
    clean = [await write('clean-0.json', await shardReport(0, matching, [])), await write('clean-1.json', await shardReport(1, matching, []))];
  });

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('the shard report carries the failure for merge, its own gate passing (--fail-on none)', async () => {
    const report = JSON.parse(await readFile(failing[1] as string, 'utf8')) as MergedJson;
    expect(report.sourceFailures).toEqual([{ family: 'order', batches: 1, keys: FAILED_KEYS, message: MESSAGE }]);
    expect(report.gate.passed).toBe(true);
    expect(JSON.parse(await readFile(failing[0] as string, 'utf8'))).not.toHaveProperty('sourceFailures');
  });

  it('merge fails the gate with exit 4, naming the family, the keys and the error, though the error ratio is within bounds', async () => {
    const result = await runCli(['merge', ...failing, '--format', 'json']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`shadowcheck: ${SENTENCE}`);
    // The ratio did not fail it: 4 of 120 keys is under the default 5%.
    expect(result.stderr).not.toContain('--max-error-ratio');
    expect(result.stderr).not.toMatch(STACK_TRACE);
    const merged = JSON.parse(result.stdout) as MergedJson;
    expect(merged.summary).toMatchObject({ sampled: 120, error: FAILED_KEYS });
    expect(merged.gate).toEqual({ passed: false, failures: [SENTENCE] });
    expect(merged.sourceFailures).toEqual([{ family: 'order', batches: 1, keys: FAILED_KEYS, message: MESSAGE }]);
  });

  it('states it once where each text format states the gate', async () => {
    const table = await runCli(['merge', ...failing]);
    expect(table.code).toBe(4);
    expect(table.stdout).toContain(`gate: FAILED: ${SENTENCE}`);
    expect(table.stdout.split('the source query failed').length - 1).toBe(1);
    const markdown = await runCli(['merge', ...failing, '--format', 'markdown']);
    expect(markdown.code).toBe(4);
    expect(markdown.stdout).toMatch(/^## ❌ shadowcheck FAILED/);
    expect(markdown.stdout).toContain('**Gate failures:** family order\\: the source query failed for a whole batch');
    expect(markdown.stdout.split('the source query failed').length - 1).toBe(1);
  });

  it('with --fail-on none the merged gate passes (exit 0) and the report still says so beside the gate', async () => {
    const result = await runCli(['merge', ...failing, '--fail-on', 'none']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`source failure (not counted by this gate): ${SENTENCE}\ngate: PASSED`);
  });

  it('merge of shards without a failed batch passes (exit 0)', async () => {
    const result = await runCli(['merge', ...clean, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const merged = JSON.parse(result.stdout) as MergedJson;
    expect(merged.gate).toEqual({ passed: true, failures: [] });
    expect(merged).not.toHaveProperty('sourceFailures');
  });
});
