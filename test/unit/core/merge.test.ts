import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addSourceFailure, evaluateGate, type GateOptions, type SourceFailure } from '../../../src/core/gate.js';
import { mergedGateInput, mergeReports, mergeSourceFailures } from '../../../src/core/merge.js';
import { readShardReport, type ShardReport } from '../../../src/core/report-document/index.js';
import { shardOfKey, type ShardMeta } from '../../../src/core/shard.js';
import { Tally } from '../../../src/core/stats.js';
import { REASONS_BY_VERDICT, VERDICTS, type Finding, type Verdict } from '../../../src/core/verdict.js';
import { UsageError } from '../../../src/errors.js';
import { createReporter } from '../../../src/report/index.js';
import type { RunSummary } from '../../../src/report/types.js';

const FAMILIES = ['user', 'order'];
const DIGEST = 'sha256:0123456789abcdef';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Findings of every verdict and reason, many with stale ages (wide range) and TTL advice. */
function makeFindings(n: number, seed: number, population?: 'recent'): Finding[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const family = pick(FAMILIES);
    const verdict: Verdict = next() < 0.6 ? 'match' : pick(VERDICTS);
    const f: Finding = { key: `${family}:${population ?? 's'}:${i}`, family, verdict, step: 4, diff: [] };
    if (verdict !== 'match') {
      f.reason = pick(REASONS_BY_VERDICT[verdict]);
      f.diff = [{ path: 'name', cache: `old ${i}`, source: `new ${i}` }];
    }
    if (verdict === 'within-ttl' || verdict === 'divergent') {
      if (next() < 0.8) f.staleAgeMs = Math.floor(next() ** 3 * 90_000_000);
      if (next() < 0.5) f.ttlAdviceMs = Math.floor(next() * 600_000);
      f.pttlMs = Math.floor(next() * 300_000);
    }
    if (population !== undefined) f.population = population;
    return f;
  });
}

interface Population {
  total: Tally;
  families: Map<string, Tally>;
}

function tally(findings: readonly Finding[], unmatchedKeys: readonly { key: string; family: string }[], families: readonly string[]): Population {
  const p: Population = { total: new Tally(), families: new Map(families.map((f) => [f, new Tally()])) };
  for (const f of findings) {
    p.total.add(f);
    p.families.get(f.family)?.add(f);
  }
  for (const u of unmatchedKeys) {
    p.total.unmatched++;
    const t = p.families.get(u.family);
    if (t !== undefined) t.unmatched++;
  }
  return p;
}

interface RunParts {
  sample: readonly Finding[];
  recent?: readonly Finding[];
  unmatched?: readonly { key: string; family: string }[];
  shard?: ShardMeta;
  startedAt?: string;
  durationMs?: number;
  version?: string;
  incomplete?: string;
  families?: readonly string[];
  sourceFailures?: SourceFailure[];
}

/** The JSON report the json reporter writes for these findings, parsed. */
async function reportJson(parts: RunParts): Promise<Record<string, unknown>> {
  const families = parts.families ?? FAMILIES;
  const sample = tally(parts.sample, parts.unmatched ?? [], families);
  const run: RunSummary = {
    version: parts.version ?? '0.1.0',
    startedAt: parts.startedAt ?? '2024-05-01T12:00:00.000Z',
    durationMs: parts.durationMs ?? 1000,
    target: { redis: 'redis://:***@cache:6379/0' },
    summary: sample.total.counters(),
    families: families.map((name) => ({ name, ...(sample.families.get(name) as Tally).counters() })),
    gate: { passed: true, failures: [] },
    incomplete: parts.incomplete !== undefined,
  };
  if (parts.incomplete !== undefined) run.abortReason = parts.incomplete;
  if (parts.shard !== undefined) run.shard = parts.shard;
  if (parts.sourceFailures !== undefined) run.sourceFailures = parts.sourceFailures;
  if (parts.recent !== undefined) {
    const recent = tally(parts.recent, [], families);
    run.recent = {
      withinMs: 600_000,
      summary: recent.total.counters(),
      families: families.map((name) => ({ name, ...(recent.families.get(name) as Tally).counters() })),
    };
  }
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const reporter = createReporter('json', { out, color: false, maxFindings: 1_000_000 });
  for (const f of [...parts.sample, ...(parts.recent ?? [])]) await reporter.onFinding?.(f);
  await reporter.onEnd?.(run);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

const meta = (index: number, count: number, extra: Partial<ShardMeta> = {}): ShardMeta => ({ index, count, rulesDigest: DIGEST, minConsistency: {}, ...extra });

/** Splits the run by shard of key, as `audit --shard i/N` would, and writes each shard's report. */
async function shardReports(count: number, all: RunParts, extra: (index: number) => Partial<RunParts> = () => ({})): Promise<ShardReport[]> {
  const reports: ShardReport[] = [];
  for (let index = 0; index < count; index++) {
    const mine = <T extends { key: string }>(items: readonly T[] | undefined): T[] | undefined => items?.filter((x) => shardOfKey(x.key, count) === index);
    const parts: RunParts = { ...all, sample: mine(all.sample) ?? [], shard: meta(index, count), ...extra(index) };
    const recent = mine(all.recent);
    if (recent !== undefined) parts.recent = recent;
    const unmatched = mine(all.unmatched);
    if (unmatched !== undefined) parts.unmatched = unmatched;
    reports.push(readShardReport(await reportJson(parts), `shard-${index}.json`));
  }
  return reports;
}

const UNMATCHED = Array.from({ length: 37 }, (_, i) => ({ key: `user:${i}:settings`, family: i % 3 === 0 ? 'order' : 'user' }));

describe('merging sharded reports', () => {
  it('gives exactly the counters of one tally fed every key: sums, ratios, bounds, quantiles, TTL advice', async () => {
    const sample = makeFindings(5000, 1);
    const recent = makeFindings(400, 2, 'recent');
    const reports = await shardReports(4, { sample, recent, unmatched: UNMATCHED });
    const merged = mergeReports(reports, '9.9.9');

    const whole = tally(sample, UNMATCHED, FAMILIES);
    expect(merged.summary).toEqual(whole.total.counters());
    expect(merged.families).toEqual(FAMILIES.map((name) => ({ name, ...(whole.families.get(name) as Tally).counters() })));
    const wholeRecent = tally(recent, [], FAMILIES);
    expect(merged.recent?.withinMs).toBe(600_000);
    expect(merged.recent?.summary).toEqual(wholeRecent.total.counters());

    // The point of carrying the histograms: quantiles of the parts could not have been combined.
    expect(merged.summary.staleAgeMs.p50).not.toBeNull();
    expect(merged.summary.staleAgeMs).toEqual(whole.total.counters().staleAgeMs);
    expect(merged.summary.unmatched).toBe(UNMATCHED.length);
    expect(merged.incomplete).toBe(false);
    expect(merged.warnings).toEqual([]);
    expect(merged.shards).toEqual({ count: 4, merged: [0, 1, 2, 3], missing: [] });
  });

  it('gates the merged figures exactly as the whole run would be gated', async () => {
    const sample = makeFindings(3000, 3);
    const minConsistency = { user: 0.99 };
    const reports = await shardReports(3, { sample }, (i) => ({ shard: meta(i, 3, { minConsistency }) }));
    const merged = mergeReports(reports, '0.1.0');
    const whole = tally(sample, [], FAMILIES);
    const options: GateOptions = { failOn: 'divergent', maxDivergent: 10, minConsistency: 0.5, maxErrorRatio: 0.05 };
    const expected = evaluateGate(
      {
        summary: whole.total.counters(),
        families: FAMILIES.map((name) => ({
          name,
          counters: (whole.families.get(name) as Tally).counters(),
          ...(name === 'user' ? { minConsistency: 0.99 } : {}),
        })),
      },
      options,
    );
    const gate = evaluateGate(mergedGateInput(merged), options);
    expect(gate).toEqual(expected);
    expect(gate.failures).toContainEqual(expect.stringMatching(/^family user: consistency .* < min 99%$/));
  });

  it('concatenates the findings in shard order whatever order the files come in', async () => {
    const sample = makeFindings(600, 4);
    const reports = await shardReports(3, { sample });
    const merged = mergeReports([...reports].reverse(), '0.1.0');
    const expected = [0, 1, 2].flatMap((i) => sample.filter((f) => f.verdict !== 'match' && shardOfKey(f.key, 3) === i).map((f) => f.key));
    expect(merged.findings.map((f) => f.key)).toEqual(expected);
    expect(merged.findings[0]).toMatchObject({ diff: [{ path: 'name' }] });
  });

  it('takes the earliest start and the longest duration', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 5) }, (i) =>
      i === 0 ? { startedAt: '2024-05-01T12:00:05.000Z', durationMs: 900 } : { startedAt: '2024-05-01T12:00:01.000Z', durationMs: 1500 },
    );
    const merged = mergeReports(reports, '0.1.0');
    expect(merged.startedAt).toBe('2024-05-01T12:00:01.000Z');
    expect(merged.durationMs).toBe(1500);
    expect(merged.version).toBe('0.1.0');
    expect(merged.target).toEqual({ redis: 'redis://:***@cache:6379/0' });
  });

  it('is incomplete when a shard was, naming it', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 6) }, (i) => (i === 1 ? { incomplete: 'lost connection to Redis' } : {}));
    const merged = mergeReports(reports, '0.1.0');
    expect(merged.incomplete).toBe(true);
    expect(merged.abortReason).toBe('shard 1/2 incomplete: lost connection to Redis');
  });

  it('warns about missing shards and marks the result incomplete, naming them', async () => {
    const reports = await shardReports(4, { sample: makeFindings(200, 7) });
    const merged = mergeReports([reports[0], reports[2]] as ShardReport[], '0.1.0');
    expect(merged.incomplete).toBe(true);
    expect(merged.abortReason).toBe('no report for shard 1/4, 3/4');
    expect(merged.shards).toEqual({ count: 4, merged: [0, 2], missing: [1, 3] });
    expect(merged.warnings).toEqual([expect.stringMatching(/^no report for shard 1\/4, 3\/4: the merged report covers 2 of 4 shards/)]);
  });

  it('warns when the shards ran different versions or against different targets', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 8) }, (i) => (i === 1 ? { version: '0.2.0' } : {}));
    (reports[1] as ShardReport).target = { redis: 'redis://other:6379/0' };
    const merged = mergeReports(reports, '0.3.0');
    expect(merged.warnings).toEqual([
      expect.stringContaining('different shadowcheck versions (0.1.0, 0.2.0)'),
      expect.stringContaining('different targets (redis: redis://:***@cache:6379/0, redis://other:6379/0)'),
    ]);
    expect(merged.version).toBe('0.3.0');
  });

  it('passes a lone unsharded report through unchanged', async () => {
    const sample = makeFindings(300, 9);
    const report = readShardReport(await reportJson({ sample, unmatched: UNMATCHED }), 'whole.json');
    const merged = mergeReports([report], '0.1.0');
    expect(merged.summary).toEqual(tally(sample, UNMATCHED, FAMILIES).total.counters());
    expect(merged.incomplete).toBe(false);
  });
});

describe('merging source failures (whole batches whose source query failed)', () => {
  const PG_ERROR = 'family "user": unrecognized configuration parameter "app.tenant"';
  const OPTIONS: GateOptions = { failOn: 'divergent', maxDivergent: 1_000_000, maxErrorRatio: 1 };

  it('sums the batches and keys of one family failing with the same message, and keeps other messages apart', () => {
    const merged = mergeSourceFailures([
      [
        { family: 'user', batches: 2, keys: 200, message: PG_ERROR },
        { family: 'order', batches: 1, keys: 7, message: 'family "order": division by zero' },
      ],
      [],
      [
        { family: 'order', batches: 1, keys: 30, message: 'family "order": another error' },
        { family: 'user', batches: 1, keys: 55, message: PG_ERROR },
      ],
    ]);
    expect(merged).toEqual([
      { family: 'user', batches: 3, keys: 255, message: PG_ERROR },
      { family: 'order', batches: 1, keys: 7, message: 'family "order": division by zero' },
      { family: 'order', batches: 1, keys: 30, message: 'family "order": another error' },
    ]);
    // The same message in another family is another failure.
    expect(mergeSourceFailures([[{ family: 'user', batches: 1, keys: 1, message: 'm' }], [{ family: 'order', batches: 1, keys: 1, message: 'm' }]])).toHaveLength(2);
    expect(mergeSourceFailures([])).toEqual([]);
  });

  it('reads them from each shard\'s report and fails the merged gate with the unsharded run\'s message', async () => {
    const sample = makeFindings(800, 20);
    // The unsharded run: three failed batches of family user, 40 + 40 + 20 keys.
    const whole: SourceFailure[] = [];
    for (const keys of [40, 40, 20]) addSourceFailure(whole, 'user', keys, PG_ERROR);
    const reports = await shardReports(2, { sample }, (i) =>
      i === 0 ? { sourceFailures: [{ family: 'user', batches: 2, keys: 80, message: PG_ERROR }] } : { sourceFailures: [{ family: 'user', batches: 1, keys: 20, message: PG_ERROR }] },
    );
    expect(reports.map((r) => r.sourceFailures.length)).toEqual([1, 1]);
    const merged = mergeReports(reports, '0.1.0');
    expect(merged.sourceFailures).toEqual(whole);

    const gate = evaluateGate(mergedGateInput(merged), OPTIONS);
    const t = tally(sample, [], FAMILIES);
    const expected = evaluateGate(
      { summary: t.total.counters(), families: FAMILIES.map((name) => ({ name, counters: (t.families.get(name) as Tally).counters() })), sourceFailures: whole },
      OPTIONS,
    );
    expect(gate).toEqual(expected);
    expect(gate).toMatchObject({ passed: false, tooManyErrors: true });
    expect(gate.failures).toEqual([`family user: the source query failed for 3 whole batches (100 keys not judged): ${PG_ERROR}`]);
    // --fail-on none (the shards' own gate) does not count them, as for one run.
    expect(evaluateGate(mergedGateInput(merged), { ...OPTIONS, failOn: 'none' })).toMatchObject({ passed: true, tooManyErrors: false });
  });

  it('passes when no shard had one, and reads reports written before the field existed as having none', async () => {
    const sample = makeFindings(400, 21);
    const reports = await shardReports(2, { sample });
    const merged = mergeReports(reports, '0.1.0');
    expect(merged.sourceFailures).toEqual([]);
    expect(evaluateGate(mergedGateInput(merged), OPTIONS)).toMatchObject({ passed: true, tooManyErrors: false });

    const json = await reportJson({ sample, shard: meta(0, 1) });
    expect(json).not.toHaveProperty('sourceFailures');
    expect(readShardReport(json, 'old.json').sourceFailures).toEqual([]);
  });

  it('refuses a malformed list, naming the file and the entry', async () => {
    const json = await reportJson({ sample: makeFindings(50, 22), sourceFailures: [{ family: 'user', batches: 1, keys: 5, message: PG_ERROR }] });
    expect(readShardReport(json, 'x.json').sourceFailures).toEqual([{ family: 'user', batches: 1, keys: 5, message: PG_ERROR }]);
    const bad = (value: unknown): Record<string, unknown> => ({ ...json, sourceFailures: value });
    expect(() => readShardReport(bad({ family: 'user' }), 'x.json')).toThrow(/^x\.json: "sourceFailures" is not a list$/);
    expect(() => readShardReport(bad([{ family: 'user', batches: 0, keys: 5, message: 'm' }]), 'x.json')).toThrow(/x\.json: sourceFailures\[0\] is not a source failure/);
    expect(() => readShardReport(bad([{ family: 'user', batches: 1, keys: '5', message: 'm' }]), 'x.json')).toThrow(/sourceFailures\[0\] is not a source failure/);
    expect(() => readShardReport(bad([{ family: 'user', batches: 1, keys: 5 }]), 'x.json')).toThrow(/sourceFailures\[0\] is not a source failure/);
    expect(() => readShardReport(bad([{ family: 'nope', batches: 1, keys: 5, message: 'm' }]), 'x.json')).toThrow(
      /x\.json: sourceFailures\[0\] names family "nope", which the report did not audit/,
    );
  });
});

describe('merge refuses reports that do not belong together', () => {
  const refuse = (reports: ShardReport[], message: RegExp): void => {
    expect(() => mergeReports(reports, '0.1.0')).toThrow(UsageError);
    expect(() => mergeReports(reports, '0.1.0')).toThrow(message);
  };

  it('the same shard twice', async () => {
    const [a] = await shardReports(2, { sample: makeFindings(50, 10) });
    refuse([a as ShardReport, { ...(a as ShardReport), file: 'copy.json' }], /copy\.json and shard-0\.json are both shard 0\/2/);
  });

  it('different shard counts', async () => {
    const [a] = await shardReports(2, { sample: makeFindings(50, 11) });
    const [b] = await shardReports(3, { sample: makeFindings(50, 11) });
    refuse([a as ShardReport, b as ShardReport], /split the keyspace into different numbers of shards/);
  });

  it('an unsharded report with shards', async () => {
    const [a] = await shardReports(2, { sample: makeFindings(50, 12) });
    const whole = readShardReport(await reportJson({ sample: makeFindings(50, 12) }), 'whole.json');
    refuse([a as ShardReport, whole], /different numbers of shards/);
  });

  it('two unsharded reports', async () => {
    const whole = readShardReport(await reportJson({ sample: makeFindings(50, 12) }), 'whole.json');
    refuse([whole, { ...whole, file: 'again.json' }], /both shard 0\/1/);
  });

  it('different rules', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 13) }, (i) => (i === 1 ? { shard: meta(1, 2, { rulesDigest: 'sha256:ffffffffffffffff' }) } : {}));
    refuse(reports, /shard-1\.json \(shard 1\/2\) was judged by other rules than shard-0\.json/);
  });

  it('different families', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 14) }, (i) => (i === 1 ? { families: ['user'], sample: [] } : {}));
    refuse(reports, /audited families "user", shard-0\.json \(shard 0\/2\) audited "user", "order"/);
  });

  it('different --recent windows', async () => {
    const reports = await shardReports(2, { sample: makeFindings(50, 15) }, (i) => (i === 1 ? { recent: [] } : {}));
    refuse(reports, /ran with --recent 600000 ms, shard-0\.json \(shard 0\/2\) with no --recent/);
  });

  it('stale ages without the histogram they came from (a report from before merge existed)', async () => {
    const sample = makeFindings(200, 16);
    const json = await reportJson({ sample, shard: meta(0, 1) });
    delete (json['summary'] as Record<string, unknown>)['staleAgeHistogram'];
    refuse([readShardReport(json, 'old.json')], /old\.json: summary: staleAgeHistogram is missing/);
  });
});

describe('readShardReport', () => {
  it('refuses what is not a shadowcheck JSON report, naming the file', () => {
    expect(() => readShardReport({ tool: 'other' }, 'x.json')).toThrow(/^x\.json: not a shadowcheck JSON report$/);
    expect(() => readShardReport([], 'x.json')).toThrow(UsageError);
  });

  it('refuses a finding with a verdict or reason the contract does not have', async () => {
    const json = await reportJson({ sample: makeFindings(100, 17) });
    const findings = json['findings'] as Record<string, unknown>[];
    (findings[0] as Record<string, unknown>)['verdict'] = 'fine';
    expect(() => readShardReport(json, 'x.json')).toThrow(/x\.json: findings\[0\] has an unknown verdict "fine"/);
    (findings[0] as Record<string, unknown>)['verdict'] = 'divergent';
    (findings[0] as Record<string, unknown>)['reason'] = 'vanished';
    expect(() => readShardReport(json, 'x.json')).toThrow(/findings\[0\] has reason "vanished", not one of divergent/);
  });

  it('refuses counters that do not add up', async () => {
    const json = await reportJson({ sample: makeFindings(100, 18), shard: meta(0, 1) });
    (json['summary'] as Record<string, number>)['match'] = 1_000_000;
    expect(() => mergeReports([readShardReport(json, 'x.json')], '0.1.0')).toThrow(/x\.json: summary: sampled \d+ and judged \d+ do not add up/);
  });

  it('reads the shard, and treats a report without one as the whole keyspace', async () => {
    const json = await reportJson({ sample: [], shard: meta(2, 5, { minConsistency: { user: 0.9 } }) });
    expect(json['shard']).toEqual({ index: 2, count: 5, rulesDigest: DIGEST, minConsistency: { user: 0.9 } });
    expect(Object.keys(json).slice(0, 6)).toEqual(['tool', 'version', 'startedAt', 'durationMs', 'target', 'shard']);
    expect(readShardReport(json, 'x.json').shard).toEqual(meta(2, 5, { minConsistency: { user: 0.9 } }));
    const bad = { ...json, shard: { ...(json['shard'] as object), index: 5 } };
    expect(() => readShardReport(bad, 'x.json')).toThrow(/"shard\.index" is not a whole number from 0 to 4/);
  });
});

describe('Tally.fromCounters', () => {
  it('rebuilds a tally whose counters are the same, histogram and exact max included', () => {
    const t = new Tally();
    for (const f of makeFindings(2000, 19)) t.add(f);
    t.unmatched = 12;
    const back = Tally.fromCounters(JSON.parse(JSON.stringify(t.counters())));
    expect(back.counters()).toEqual(t.counters());
  });

  it('keeps the exact max, which the histogram alone knows only to its bucket', () => {
    const t = new Tally();
    t.add({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, diff: [], staleAgeMs: 1000 });
    t.add({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, diff: [], staleAgeMs: 4_000_000 });
    const back = Tally.fromCounters(t.counters());
    expect(back.counters().staleAgeMs).toEqual({ p50: 1000, p99: 4_000_000, max: 4_000_000 });
    const merged = new Tally();
    merged.merge(back);
    merged.merge(Tally.fromCounters(t.counters()));
    expect(merged.counters().staleAgeMs.max).toBe(4_000_000);
  });

  it('rebuilds an empty tally, with or without the histogram', () => {
    const empty = new Tally().counters();
    expect(Tally.fromCounters(empty).counters()).toEqual(empty);
    const { staleAgeHistogram: _, ...legacy } = empty;
    expect(Tally.fromCounters(legacy).counters()).toEqual(empty);
  });

  it('refuses a histogram that is not one, or does not match the figures beside it', () => {
    const t = new Tally();
    t.add({ verdict: 'divergent', reason: 'no-ttl', step: 6, diff: [], staleAgeMs: 5000 });
    const c = t.counters();
    expect(() => Tally.fromCounters({ ...c, staleAgeHistogram: 'nonsense' })).toThrow(/staleAgeHistogram is not an encoded HDR histogram/);
    expect(() => Tally.fromCounters({ ...c, staleAgeMs: { p50: null, p99: null, max: null } })).toThrow(/holds 1 stale ages/);
    expect(() => Tally.fromCounters({ ...c, staleAgeMs: { p50: 9000, p99: 9000, max: 9000 } })).toThrow(/not in the histogram's highest bucket/);
    expect(() => Tally.fromCounters({ ...c, byReason: { ...c.byReason, 'no-ttl': 2 } })).toThrow(/byReason counts 2 divergent keys, the counters 1/);
    expect(() => Tally.fromCounters({ ...c, divergent: -1 })).toThrow(/divergent is -1, expected a whole number >= 0/);
  });
});
