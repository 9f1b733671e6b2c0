/**
 * How each format states a family's sampling and the keyspace coverage (issue 16), and that
 * `merge` sums the shards' coverage.
 */
import { describe, expect, it } from 'vitest';
import { mergeReports } from '../../../src/core/merge.js';
import { readShardReport } from '../../../src/core/report-document/index.js';
import type { Finding } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor } from './harness.js';

const FINDINGS: Finding[] = [{ key: 'item:1', family: 'item', verdict: 'match', step: 1, pttlMs: 1000, diff: [] } as unknown as Finding];

function sampledRun(overrides: Partial<RunSummary> = {}): RunSummary {
  const run = runFor(FINDINGS, {}, 1234);
  return {
    ...run,
    families: run.families.map((f) => ({ ...f, sampling: { method: 'random', examined: 10_234, redisCalls: 10_234, why: 'the family holds ~10% of 5,000,000 keys', bias: 'near-uniform' } })),
    coverage: { unmatched: 1234, exact: false, basis: '12 of 2000 RANDOMKEY replies unclaimed', uncoveredPrefixes: [{ prefix: 'session:', keys: 1000 }, { prefix: 'evil\u001b[2J:', keys: 234 }] },
    ...overrides,
  };
}

describe('sampling and coverage in the reports', () => {
  it('table: the method and cost per family, the estimate, and the prefixes with cache text escaped', async () => {
    const text = await renderReport('table', FINDINGS, { run: sampledRun() });
    expect(text).toContain('sampling item: random, 10,234 keys examined in 10,234 Redis calls (the family holds ~10% of 5,000,000 keys; near-uniform)');
    expect(text).toContain('unmatched: ~1,234 key(s) no family covers (estimated: 12 of 2000 RANDOMKEY replies unclaimed)');
    expect(text).toContain('uncovered prefixes: session: ~1,000');
    expect(text).not.toContain('\u001b[2J');
  });

  it('table and json: a short sample states how many keys of how many asked, and merge keeps it', async () => {
    const short = { asked: 1000, drawn: 3, because: '997 of 1000 sampled rows had no cache entry' };
    const run = sampledRun();
    const shortRun = { ...run, families: run.families.map((f) => ({ ...f, sampling: { method: 'source' as const, examined: 1000, redisCalls: 1000, notCached: 997, short } })) };
    expect(await renderReport('table', FINDINGS, { run: shortRun })).toContain('sampling item: source, 1,000 keys examined in 1,000 Redis calls; SHORT SAMPLE: drew only 3 of the 1,000 keys asked');
    const doc = JSON.parse(await renderReport('json', FINDINGS, { run: shortRun })) as { families: { sampling: { short: unknown } }[] };
    expect(doc.families[0]?.sampling.short).toEqual(short);
    const { mergeSampling } = await import('../../../src/core/merge-coverage.js');
    const merged = mergeSampling([{ method: 'random', examined: 10, redisCalls: 10 }, { method: 'source', examined: 1000, redisCalls: 1000, short }]);
    expect(merged?.short).toEqual({ asked: 1000, drawn: 3, because: `1 of 2 shards drew short: ${short.because}` });
  });

  it('markdown: a sampling block with the coverage line', async () => {
    const text = await renderReport('markdown', FINDINGS, { run: sampledRun() });
    expect(text).toContain('**Sampling:**\n- `item`: random');
    expect(text).toContain('10\\,234 keys examined');
    expect(text).toContain('`session:` ~1,000');
    // The header's figure is the estimate too, and says so as the body does.
    expect(text).toContain('unmatched keys: ~1234');
    const exact = await renderReport('markdown', FINDINGS, { run: sampledRun({ coverage: { unmatched: 1234, exact: true, basis: 'one full SCAN pass', uncoveredPrefixes: [] } }) });
    expect(exact).toContain('unmatched keys: 1234');
    expect(exact).not.toContain('unmatched keys: ~');
  });

  it('json: families[].sampling and coverage, in the document and ndjson\'s summary line', async () => {
    const doc = JSON.parse(await renderReport('json', FINDINGS, { run: sampledRun() })) as Record<string, unknown>;
    expect((doc['families'] as { sampling: unknown }[])[0]?.sampling).toEqual({
      method: 'random',
      examined: 10_234,
      redisCalls: 10_234,
      why: 'the family holds ~10% of 5,000,000 keys',
      bias: 'near-uniform',
    });
    expect(doc['coverage']).toMatchObject({ unmatched: 1234, exact: false });
    const lines = (await renderReport('ndjson', FINDINGS, { run: sampledRun() })).trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
    expect(summary['coverage']).toMatchObject({ unmatched: 1234, uncoveredPrefixes: [{ prefix: 'session:', keys: 1000 }, { prefix: 'evil\u001b[2J:', keys: 234 }] });
  });

  it('merge sums the shards\' unmatched and prefixes, exact only when every shard was', async () => {
    const shard = async (index: number, exact: boolean, keys: number) => {
      const run = sampledRun({
        shard: { index, count: 2, rulesDigest: 'sha256:0123456789abcdef', minConsistency: {} },
        coverage: { unmatched: keys, exact, basis: 'one full SCAN pass', uncoveredPrefixes: [{ prefix: 'session:', keys }] },
      });
      run.summary.unmatched = keys;
      return readShardReport(JSON.parse(await renderReport('json', FINDINGS, { run })), `shard-${index}.json`);
    };
    const merged = mergeReports([await shard(0, true, 10), await shard(1, true, 5)], '0.1.0');
    expect(merged.keyspace).toMatchObject({ unmatched: 15, exact: true, uncoveredPrefixes: [{ prefix: 'session:', keys: 15 }] });
    expect(merged.summary.unmatched).toBe(15);
    expect(merged.families[0]?.sampling).toMatchObject({ method: 'random', examined: 20_468, why: 'merged from 2 shards' });
    const mixed = mergeReports([await shard(0, true, 10), await shard(1, false, 5)], '0.1.0');
    expect(mixed.keyspace?.exact).toBe(false);
  });
});
