import { readFile, writeFile } from 'node:fs/promises';
import * as hdr from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOfKey } from '../../../src/core/shard.js';
import type { Counters } from '../../../src/core/stats.js';
import { runCli, type CliResult } from '../../e2e/cli.js';
import { makeTempDir, parseNdjson, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

// This file owns logical database 1 of a private redis-server (keys under shard:) and a throwaway PostgreSQL schema.
const REDIS_DB = 1;
const PREFIX = 'shard:';
const USERS = 1500;
const ITEMS = 500;
const UNMATCHED = 40;

interface Finding {
  key: string;
  family: string;
  verdict: string;
  reason?: string;
  population?: string;
  diff: unknown[];
}

interface Population {
  summary: Counters;
  families: (Counters & { name: string })[];
}

interface Report extends Population {
  tool: string;
  shard?: { index: number; count: number; rulesDigest: string; minConsistency: Record<string, number> };
  recent?: Population & { withinMs: number };
  findings: Finding[];
  gate: { passed: boolean; failures: string[]; baseline?: { knownDivergent: number; newDivergent: number } };
  incomplete?: true;
  abortReason?: string;
}

let db: TestDb;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep([PREFIX]);
  pg = await createPgSandbox();
  const users = pg.table('users');
  const items = pg.table('items');
  await pg.exec(`CREATE TABLE ${users} (id int PRIMARY KEY, name text NOT NULL, plan text NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL)`);
  await pg.exec(`CREATE INDEX ON ${users} (updated_at)`);
  await pg.exec(`INSERT INTO ${users} SELECT i, 'user ' || i, 'basic', 1, now() - interval '1 day' FROM generate_series(1, ${USERS}) AS i`);
  await pg.exec(`CREATE TABLE ${items} (id int PRIMARY KEY, title text NOT NULL)`);
  await pg.exec(`INSERT INTO ${items} SELECT i, 'item ' || i FROM generate_series(1, ${ITEMS}) AS i`);

  // Planted divergences, each far from its decision boundary so that the runs, seconds apart, agree.
  await pg.exec(`DELETE FROM ${users} WHERE id BETWEEN 41 AND 50`); // orphans
  await pg.exec(`UPDATE ${users} SET name = 'new', version = 2, updated_at = now() - interval '5 minutes' WHERE id BETWEEN 51 AND 60`);
  await pg.exec(`UPDATE ${users} SET name = 'new', version = 2, updated_at = now() - interval '10 seconds' WHERE id BETWEEN 61 AND 70`);
  await pg.exec(`UPDATE ${users} SET name = 'new', version = 2, updated_at = now() - interval '50 seconds' WHERE id BETWEEN 71 AND 80`);
  await pg.exec(`DELETE FROM ${items} WHERE id BETWEEN 11 AND 15`);

  const pipe = db.redis.pipeline();
  const user = (id: number, fields: Partial<{ name: string; plan: string; version: number }> = {}): string =>
    JSON.stringify({ id, name: `user ${id}`, plan: 'basic', version: 1, ...fields });
  for (let id = 1; id <= USERS; id++) {
    const key = `${PREFIX}user:${id}`;
    if (id <= 20) pipe.set(key, user(id, { name: 'old', version: 0 })); // divergent/no-ttl
    else if (id <= 30) pipe.set(key, user(id, { name: 'future', version: 2 }), 'EX', 600); // divergent/cache-ahead
    else if (id <= 40) pipe.set(key, user(id, { plan: 'pro' }), 'EX', 600); // divergent/payload-drift
    else if (id <= 50) pipe.set(key, user(id)); // divergent/orphan
    else if (id <= 60) pipe.set(key, user(id), 'EX', 600); // written after the change: divergent/stale-repopulated
    else if (id <= 70) pipe.set(key, user(id), 'EX', 300); // within-ttl/ttl-bounded
    else if (id <= 80) pipe.set(key, user(id), 'EX', 500); // divergent/stale-beyond-budget
    else if (id <= 85) pipe.set(key, 'not json{', 'EX', 600); // error/undecodable
    else if (id <= 90) pipe.hset(key, 'name', `user ${id}`); // skipped/wrong-type
    else if (id <= 95) pipe.set(key, user(id, { name: 'old', version: 0 }), 'EX', 3600); // divergent/ttl-exceeds-declared
    else pipe.set(key, user(id), 'EX', 600); // match
  }
  for (let id = 1; id <= ITEMS; id++) {
    const key = `${PREFIX}item:${id}`;
    if (id <= 10) pipe.set(key, JSON.stringify({ id, title: 'old' }), 'EX', 280); // within-ttl/ttl-bounded-assumed
    else if (id <= 15) pipe.set(key, JSON.stringify({ id, title: `item ${id}` }), 'EX', 280); // row gone, within budget
    else if (id <= 20) pipe.set(key, JSON.stringify({ id, title: 'old' })); // divergent/no-ttl
    else pipe.set(key, JSON.stringify({ id, title: `item ${id}` }), 'EX', 300);
  }
  // SCAN shard:user:* returns them; no family's pattern claims them ({id} never spans ':').
  for (let id = 1; id <= UNMATCHED; id++) pipe.set(`${PREFIX}user:${id}:settings`, '{}', 'EX', 600);
  await pipe.exec();

  dir = await makeTempDir('shadowcheck-shard-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: user
    pattern: "${PREFIX}user:{id}"
    source: main
    table: ${users}
    fields: [name, plan]
    version: version
    updatedAt: updated_at
    ttl: 10m
    maxStaleness: 6m
    minConsistency: 0.999
  - name: item
    pattern: "${PREFIX}item:{id}"
    source: main
    table: ${items}
    fields: [title]
    ttl: 5m
`,
  );
}, 120_000);

afterAll(async () => {
  await db?.sweep([PREFIX]);
  await db?.close();
  await pg?.drop();
  await dir?.remove();
});

const GATE = ['--min-consistency', '90%'];

function audit(args: readonly string[]): Promise<CliResult> {
  return runCli(['audit', '--rules', rules, '--redis', db.url, '--all', '--recent', '10m', '--confirm-delay', '0', ...GATE, ...args]);
}

async function auditJson(args: readonly string[]): Promise<{ code: number | null; report: Report }> {
  const result = await audit(['--format', 'json', ...args]);
  if (result.stdout === '') throw new Error(`audit printed no report (exit ${String(result.code)}): ${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

async function shardFile(index: number): Promise<string> {
  const file = dir.file(`shard-${index}.json`);
  const result = await audit(['--shard', `${index}/2`, '--format', 'json', '--output', file]);
  expect(result.code, result.stderr).toBe(1);
  return file;
}

/** Counters without the figures that move with the clock between two runs (stale ages, TTL advice). */
function timeless(c: Counters): Omit<Counters, 'staleAgeMs' | 'staleAgeHistogram' | 'ttlAdvice'> & { staleAges: number; ttlAdviceKeys: number | null } {
  // `sampling` states each run's own work (every shard scans the keyspace): not a population figure.
  const { staleAgeMs: _a, staleAgeHistogram, ttlAdvice, sampling: _s, ...rest } = c as Counters & { sampling?: unknown };
  return {
    ...rest,
    staleAges: staleAgeHistogram === undefined ? -1 : hdr.decodeFromCompressedBase64(staleAgeHistogram, 'packed', false).totalCount,
    ttlAdviceKeys: ttlAdvice?.basedOnKeys ?? null,
  };
}

function expectSamePopulation(actual: Population, expected: Population): void {
  expect(timeless(actual.summary)).toEqual(timeless(expected.summary));
  expect(actual.families.map((f) => ({ name: f.name, ...timeless(f) }))).toEqual(expected.families.map((f) => ({ name: f.name, ...timeless(f) })));
  // Stale ages grow with the clock: the runs are seconds apart, the planted ages minutes.
  const near = (a: number | null, b: number | null, tolerance: number): void => {
    expect(a === null).toBe(b === null);
    if (a !== null && b !== null) expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance);
  };
  near(actual.summary.staleAgeMs.max, expected.summary.staleAgeMs.max, 30_000);
  near(actual.summary.staleAgeMs.p50, expected.summary.staleAgeMs.p50, 30_000);
  near(actual.summary.ttlAdvice?.maxTtlMs ?? null, expected.summary.ttlAdvice?.maxTtlMs ?? null, 2_000);
}

const identity = (f: Finding): string => JSON.stringify([f.key, f.family, f.verdict, f.reason ?? null, f.population ?? null, f.diff]);

describe('--shard i/N and merge', () => {
  let whole: { code: number | null; report: Report };
  let files: string[];

  beforeAll(async () => {
    whole = await auditJson([]);
    files = [await shardFile(0), await shardFile(1)];
  }, 120_000);

  it('the unsharded run finds every planted divergence (the reference the merge must equal)', () => {
    expect(whole.code).toBe(1);
    const { summary } = whole.report;
    expect(summary).toMatchObject({ sampled: USERS + ITEMS, unmatched: UNMATCHED, error: 5, skipped: 5 });
    expect(summary.byReason).toMatchObject({
      'no-ttl': 25,
      'cache-ahead': 10,
      'payload-drift': 10,
      orphan: 10,
      'stale-repopulated': 10,
      'ttl-bounded': 10,
      'stale-beyond-budget': 10,
      'ttl-exceeds-declared': 5,
      'ttl-bounded-assumed': 15,
    });
    expect(whole.report.recent?.summary.sampled).toBe(30);
    expect(whole.report.gate.failures).toContainEqual(expect.stringMatching(/^family user: consistency .* < min 99\.9%$/));
    expect(whole.report.shard).toBeUndefined();
  });

  it('each shard reports which shard it was and the rules that judged it', async () => {
    const reports = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Report));
    expect(reports.map((r) => r.shard?.index)).toEqual([0, 1]);
    expect(reports.map((r) => r.shard?.count)).toEqual([2, 2]);
    expect(reports[0]?.shard?.rulesDigest).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(reports[1]?.shard?.rulesDigest).toBe(reports[0]?.shard?.rulesDigest);
    expect(reports[0]?.shard?.minConsistency).toEqual({ user: 0.999 });
    // Both judged a real part of the keyspace, and their unmatched counts add up.
    for (const r of reports) expect(r.summary.sampled).toBeGreaterThan((USERS + ITEMS) / 4);
    expect((reports[0]?.summary.unmatched ?? 0) + (reports[1]?.summary.unmatched ?? 0)).toBe(UNMATCHED);
    expect((reports[0]?.recent?.summary.sampled ?? 0) + (reports[1]?.recent?.summary.sampled ?? 0)).toBe(30);
  });

  it('merging the two shards gives the unsharded report, key for key, with the same gate and exit code', async () => {
    const result = await runCli(['merge', ...files, '--format', 'json', ...GATE]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(whole.code);
    const merged = JSON.parse(result.stdout) as Report;
    expect(Object.keys(merged)).toEqual(Object.keys(whole.report));
    expectSamePopulation(merged, whole.report);
    expect(merged.recent?.withinMs).toBe(whole.report.recent?.withinMs);
    expectSamePopulation(merged.recent as Population, whole.report.recent as Population);
    expect(merged.findings.map(identity).sort()).toEqual(whole.report.findings.map(identity).sort());
    expect(merged.findings).toHaveLength(whole.report.findings.length);
    expect(merged.gate).toEqual(whole.report.gate);
    // Findings come shard by shard.
    const shards = merged.findings.map((f) => shardOfKey(f.key, 2));
    expect(shards).toEqual([...shards].sort());
  });

  it('the shards judge disjoint sets of keys that together are every key, split by hash slot', async () => {
    // Every judged key, match included (ndjson), without --recent so that no key is listed twice.
    const keysOf = async (args: string[]): Promise<{ keys: Set<string>; unmatched: number }> => {
      const result = await runCli(['audit', '--rules', rules, '--redis', db.url, '--all', '--confirm-delay', '0', '--format', 'ndjson', '--fail-on', 'none', ...args]);
      // The user family's own minConsistency fails the gate whatever the flags say.
      expect(result.code, result.stderr).toBe(1);
      const report = parseNdjson(result.stdout);
      return { keys: new Set(report.keys.map((k) => k.key)), unmatched: report.summary.summary.unmatched };
    };
    const [all, zero, one] = await Promise.all([keysOf([]), keysOf(['--shard', '0/2']), keysOf(['--shard', '1/2'])]);
    expect(all.keys.size).toBe(USERS + ITEMS);
    expect([...zero.keys].filter((k) => one.keys.has(k))).toEqual([]);
    expect(new Set([...zero.keys, ...one.keys])).toEqual(all.keys);
    for (const k of zero.keys) expect(shardOfKey(k, 2)).toBe(0);
    for (const k of one.keys) expect(shardOfKey(k, 2)).toBe(1);
    expect(zero.unmatched + one.unmatched).toBe(all.unmatched);
  });

  it('with a shard missing, merge prints what it has, marked incomplete, and exits 3', async () => {
    const result = await runCli(['merge', files[0] as string, '--format', 'json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no report for shard 1/2');
    const merged = JSON.parse(result.stdout) as Report;
    expect(merged.incomplete).toBe(true);
    expect(merged.abortReason).toBe('no report for shard 1/2');
  });

  it('refuses the same shard twice (exit 2)', async () => {
    const result = await runCli(['merge', files[0] as string, files[0] as string]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/are both shard 0\/2/);
    expect(result.stdout).toBe('');
  });

  it('takes the gate flags of audit: a baseline listing every divergence leaves only the family threshold', async () => {
    const baseline = dir.file('baseline.json');
    await writeFile(baseline, JSON.stringify(whole.report));
    const result = await runCli(['merge', ...files, '--format', 'json', '--baseline', baseline, '--max-divergent', '0']);
    const merged = JSON.parse(result.stdout) as Report;
    const divergent = whole.report.summary.divergent + (whole.report.recent?.summary.divergent ?? 0);
    expect(merged.gate.baseline).toMatchObject({ knownDivergent: whole.report.summary.divergent, newDivergent: 0 });
    expect(divergent).toBeGreaterThan(0);
    expect(merged.gate.failures).toEqual([expect.stringMatching(/^family user: consistency .* < min 99\.9%$/)]);
    expect(result.code).toBe(1);

    const passing = await runCli(['merge', ...files, '--format', 'markdown', '--fail-on', 'none', '--min-consistency', '0']);
    expect(passing.stdout).toContain('shadowcheck');
    expect(passing.code).toBe(1); // the user family's own minConsistency still applies
  });
});
