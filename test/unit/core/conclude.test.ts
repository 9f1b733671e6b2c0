import { describe, expect, it } from 'vitest';
import { concludeRun, settleExitCode, type RunOutcome } from '../../../src/core/conclude.js';
import type { GateOptions, SourceFailure } from '../../../src/core/gate.js';
import { Tally, type Counters } from '../../../src/core/stats.js';
import type { Judgement } from '../../../src/core/verdict.js';
import { ExitCode } from '../../../src/errors.js';

function counters(spec: { match?: number; divergent?: number; error?: number }): Counters {
  const t = new Tally();
  const add = (n: number | undefined, j: Judgement) => {
    for (let i = 0; i < (n ?? 0); i++) t.add(j);
  };
  add(spec.match, { verdict: 'match', step: 4, diff: [] });
  add(spec.divergent, { verdict: 'divergent', reason: 'no-ttl', step: 6, diff: [] });
  add(spec.error, { verdict: 'error', reason: 'source-error', step: 2, diff: [] });
  return t.counters();
}

function outcome(spec: { match?: number; divergent?: number; error?: number }, extra: Partial<RunOutcome> = {}): RunOutcome {
  const summary = counters(spec);
  return {
    kind: 'audit',
    version: '1.2.3',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1500,
    target: { redis: 'redis://:***@cache:6379/0' },
    summary,
    families: [{ name: 'user', ...summary }],
    minConsistency: {},
    incomplete: false,
    warnings: [],
    sourceFailures: [],
    ...extra,
  };
}

const GATE: GateOptions = { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.05 };
const FAILED_BATCH: SourceFailure = { family: 'user', batches: 1, keys: 3, message: 'relation "users" does not exist' };
const FAILED_BATCH_SENTENCE = 'family user: the source query failed for a whole batch (3 keys not judged): relation "users" does not exist';

describe('concludeRun', () => {
  it('a clean run passes the gate and exits 0, with no notice', () => {
    const c = concludeRun(outcome({ match: 10 }), GATE);
    expect(c.exitCode).toBe(ExitCode.ok);
    expect(c.notices).toEqual([]);
    expect(c.run.gate).toEqual({ passed: true, failures: [] });
    expect(c.run).toMatchObject({ version: '1.2.3', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1500, incomplete: false });
  });

  it('a family whose source draw found no sampled row cached fails the gate, though another family passed', () => {
    const empty = counters({});
    const short = { asked: 1000, drawn: 0, because: '10000 of 10000 sampled rows had no cache entry' };
    const run = outcome({ match: 10 }, { families: [{ name: 'user', ...counters({ match: 10 }) }, { name: 'rare', ...empty, sampling: { method: 'source', examined: 10_000, redisCalls: 10_000, notCached: 10_000, short } }] });
    const c = concludeRun(run, GATE);
    expect(c.exitCode).toBe(ExitCode.gateFailed);
    expect(c.run.gate.failures).toEqual([`family rare: no key was judged (1000 keys asked, none drawn: ${short.because}; check the pattern and --redis)`]);
    // A shard whose gate is left to merge opts out, and a draw that judged some keys is only short.
    expect(concludeRun(run, { ...GATE, failOn: 'none' }).run.gate.passed).toBe(true);
    const some = { ...run, families: [{ name: 'rare', ...counters({ match: 3 }), sampling: { method: 'source' as const, examined: 10_000, redisCalls: 10_000, short: { ...short, drawn: 3 } } }] };
    expect(concludeRun(some, GATE).run.gate.passed).toBe(true);
  });

  it('a divergent key fails the gate: exit 1, no notice (the report states the gate)', () => {
    const c = concludeRun(outcome({ match: 9, divergent: 1 }), GATE);
    expect(c.exitCode).toBe(ExitCode.gateFailed);
    expect(c.notices).toEqual([]);
    expect(c.run.gate.failures).toEqual(['divergent 1 > max 0']);
  });

  it('divergences the baseline already lists do not fail the gate; the run says how many were known', () => {
    const c = concludeRun(outcome({ match: 9, divergent: 1 }), GATE, { file: 'b.json', knownDivergent: 1, knownRecentDivergent: 0 });
    expect(c.exitCode).toBe(ExitCode.ok);
    expect(c.run.gate.baseline).toEqual({ file: 'b.json', knownDivergent: 1, newDivergent: 0 });
  });

  it('a family\'s own minConsistency overrides the run-wide one', () => {
    const c = concludeRun(outcome({ match: 9, divergent: 1 }, { minConsistency: { user: 0.95 } }), { ...GATE, failOn: 'none' });
    expect(c.run.gate.failures).toEqual(['family user: consistency 90% < min 95%']);
  });

  it('over --max-error-ratio: exit 4, and the notice gives the figures in the gate\'s wording', () => {
    const c = concludeRun(outcome({ match: 7, error: 3 }), GATE);
    expect(c.exitCode).toBe(ExitCode.tooManyErrors);
    expect(c.notices).toEqual(['3 of 10 keys could not be judged (30% > --max-error-ratio 5%)']);
  });

  it('a failed source batch within the ratio: exit 4, naming the batch, not the ratio', () => {
    const c = concludeRun(outcome({ match: 97, error: 3 }, { sourceFailures: [FAILED_BATCH] }), GATE);
    expect(c.exitCode).toBe(ExitCode.tooManyErrors);
    expect(c.notices).toEqual([FAILED_BATCH_SENTENCE]);
    expect(c.run.sourceFailures).toEqual([FAILED_BATCH]);
  });

  it('with --fail-on none a failed batch is reported, not gated: exit 0', () => {
    const c = concludeRun(outcome({ match: 97, error: 3 }, { sourceFailures: [FAILED_BATCH] }), { ...GATE, failOn: 'none' });
    expect(c.exitCode).toBe(ExitCode.ok);
    expect(c.notices).toEqual([]);
    expect(c.run.sourceFailures).toEqual([FAILED_BATCH]);
  });

  it('an incomplete audit exits 3 and fails its gate, whatever it judged', () => {
    const c = concludeRun(outcome({ match: 10 }, { incomplete: true, abortReason: 'interrupted' }), GATE);
    expect(c.exitCode).toBe(ExitCode.connection);
    expect(c.notices).toEqual(['audit incomplete: interrupted; the report covers the keys judged so far']);
    expect(c.run.gate.passed).toBe(false);
    expect(c.run.abortReason).toBe('interrupted');
  });

  it('an incomplete merge says so in its own words, and its gate fails as an incomplete audit\'s does', () => {
    const audit = concludeRun(outcome({ match: 10 }, { incomplete: true, abortReason: 'no report for shard 1/2' }), GATE);
    const merge = concludeRun(outcome({ match: 10 }, { kind: 'merge', incomplete: true, abortReason: 'no report for shard 1/2' }), GATE);
    expect(merge.exitCode).toBe(ExitCode.connection);
    expect(merge.notices).toEqual(['merged report incomplete: no report for shard 1/2']);
    expect(merge.run).toEqual(audit.run);
  });

  it('optional parts appear in the run only when the outcome has them', () => {
    const bare = concludeRun(outcome({ match: 1 }), GATE).run;
    for (const key of ['warnings', 'sourceFailures', 'shard', 'coverage', 'replicaLagMs', 'recent', 'abortReason']) expect(bare).not.toHaveProperty(key);
    const recent = { withinMs: 60_000, summary: counters({ match: 1, divergent: 1 }), families: [] };
    const full = concludeRun(
      outcome({ match: 1 }, { recent, warnings: [{ kind: 'rules', family: 'user', message: 'm' }], replicaLagMs: { redis: 5 }, shard: { index: 0, count: 2, rulesDigest: 'd', minConsistency: {} } }),
      GATE,
    );
    expect(full.run).toMatchObject({ recent, warnings: [{ kind: 'rules', family: 'user', message: 'm' }], replicaLagMs: { redis: 5 }, shard: { index: 0, count: 2 } });
    expect(full.run.gate.failures).toEqual(['recent-write divergent 1 > max 0']);
  });
});

describe('settleExitCode', () => {
  const passed = concludeRun(outcome({ match: 10 }), GATE);
  const incomplete = concludeRun(outcome({ match: 10 }, { incomplete: true }), GATE);
  const tooManyErrors = concludeRun(outcome({ match: 5, error: 5 }), GATE);

  it('an interrupted run exits as a shell expects of the signal: 143 for SIGTERM, 130 otherwise', () => {
    expect(settleExitCode(incomplete, { interruptedBy: 'SIGTERM' })).toBe(143);
    expect(settleExitCode(incomplete, { interruptedBy: 'SIGINT' })).toBe(130);
    expect(settleExitCode(incomplete)).toBe(ExitCode.connection);
  });

  it('a failed required push exits 3, over the gate; an incomplete run keeps its own code', () => {
    expect(settleExitCode(passed, { requiredPushFailed: true })).toBe(ExitCode.connection);
    expect(settleExitCode(tooManyErrors, { requiredPushFailed: true })).toBe(ExitCode.connection);
    expect(settleExitCode(tooManyErrors)).toBe(ExitCode.tooManyErrors);
    expect(settleExitCode(incomplete, { interruptedBy: 'SIGINT', requiredPushFailed: true })).toBe(130);
  });
});
