import { describe, expect, it } from 'vitest';
import { RunSinks, systematicSink, type RunSink } from '../../../src/audit/run-sinks.js';
import type { Finding } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';

const finding = (key: string, population?: 'recent'): Finding => ({ key, family: 'user', verdict: 'match', step: 4, diff: [], ...(population === undefined ? {} : { population }) });

describe('RunSinks', () => {
  it('feeds every hook to every sink in list order, awaiting a sink that returns a promise before the next', async () => {
    const calls: string[] = [];
    const slow: RunSink = {
      onRunStart: (n) => void calls.push(`slow start ${n}`),
      async onFinding(f) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        calls.push(`slow ${f.key}`);
      },
      onRunEnd: async () => void calls.push('slow end'),
    };
    const counting: RunSink = { onFinding: (f) => void calls.push(`count ${f.key}`), onJudgingEnd: () => void calls.push('count stop') };
    const sinks = new RunSinks([slow, counting, {}]);
    sinks.start(2);
    await sinks.finding(finding('user:1'));
    await sinks.finding(finding('user:2'));
    sinks.judgingEnded();
    await sinks.end({} as RunSummary);
    expect(calls).toEqual(['slow start 2', 'slow user:1', 'count user:1', 'slow user:2', 'count user:2', 'count stop', 'slow end']);
  });

  it('the systematic sink tallies the sample only, never --recent findings (which may judge a key twice)', async () => {
    const systematic = systematicSink();
    const added: string[] = [];
    systematic.tally.add = (f) => void added.push((f as Finding).key);
    const sinks = new RunSinks([systematic]);
    await sinks.finding(finding('user:1'));
    await sinks.finding(finding('user:2', 'recent'));
    expect(added).toEqual(['user:1']);
  });
});
