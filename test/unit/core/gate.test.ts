import { describe, expect, it } from 'vitest';
import { addSourceFailure, evaluateGate, type GateOptions, type SourceFailure } from '../../../src/core/gate.js';
import { Tally, type Counters } from '../../../src/core/stats.js';
import type { Judgement } from '../../../src/core/verdict.js';

function counters(spec: { match?: number; divergent?: number; error?: number; within?: number }): Counters {
  const t = new Tally();
  const add = (n: number | undefined, j: Judgement) => {
    for (let i = 0; i < (n ?? 0); i++) t.add(j);
  };
  add(spec.match, { verdict: 'match', step: 4, diff: [] });
  add(spec.within, { verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, diff: [] });
  add(spec.divergent, { verdict: 'divergent', reason: 'no-ttl', step: 6, diff: [] });
  add(spec.error, { verdict: 'error', reason: 'timeout', step: 2, diff: [] });
  return t.counters();
}

const defaults: GateOptions = { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.05 };
const gate = (summary: Counters, options: Partial<GateOptions> = {}, extra: Partial<Parameters<typeof evaluateGate>[0]> = {}) =>
  evaluateGate({ summary, families: [], ...extra }, { ...defaults, ...options });

describe('evaluateGate', () => {
  it('passes a clean run', () => {
    expect(gate(counters({ match: 10 }))).toEqual({ passed: true, failures: [], tooManyErrors: false });
  });

  it('fails an audit that judged no key at all, unless --fail-on none, and not one whose keys were recent writes only', () => {
    const nothing = 'no key was judged: no family pattern matched a key (check --redis, its logical database, and the patterns)';
    expect(gate(counters({}))).toMatchObject({ passed: false, failures: [nothing] });
    expect(gate(counters({}), { failOn: 'error' })).toMatchObject({ passed: false, failures: [nothing] });
    expect(gate(counters({}), { failOn: 'none' })).toMatchObject({ passed: true });
    expect(gate(counters({}), {}, { recent: { counters: counters({ match: 2 }), knownDivergent: 0 } })).toMatchObject({ passed: true });
    // An interrupted run already fails, for its own reason.
    expect(gate(counters({}), {}, { incomplete: true }).failures).not.toContain(nothing);
  });

  it('fails on any divergent key by default, saying by how much', () => {
    expect(gate(counters({ match: 9, divergent: 1 }))).toMatchObject({ passed: false, failures: ['divergent 1 > max 0'] });
  });

  it('tolerates up to --max-divergent', () => {
    expect(gate(counters({ match: 8, divergent: 2 }), { maxDivergent: 2 }).passed).toBe(true);
    expect(gate(counters({ match: 7, divergent: 3 }), { maxDivergent: 2 }).failures).toEqual(['divergent 3 > max 2']);
  });

  it('ignores divergent keys with --fail-on none, and fails on errors with --fail-on error', () => {
    expect(gate(counters({ match: 9, divergent: 1 }), { failOn: 'none' }).passed).toBe(true);
    const g = gate(counters({ match: 99, error: 1 }), { failOn: 'error' });
    expect(g.failures).toEqual(['error 1 > max 0']);
  });

  it('fails when consistency is under --min-consistency', () => {
    const summary = counters({ match: 98, within: 0, divergent: 2 });
    expect(gate(summary, { failOn: 'none', minConsistency: 0.99 }).failures).toEqual(['consistency 98% < min 99%']);
    expect(gate(summary, { failOn: 'none', minConsistency: 0.98 }).passed).toBe(true);
  });

  it("lets a family's minConsistency override the run-wide one", () => {
    const bad = counters({ match: 95, divergent: 5 });
    const good = counters({ match: 100 });
    const families = [
      { name: 'strict', counters: bad, minConsistency: 0.99 },
      { name: 'lenient', counters: bad, minConsistency: 0.9 },
      { name: 'default', counters: good },
    ];
    const g = gate(counters({ match: 290, divergent: 10 }), { failOn: 'none', minConsistency: 0.5 }, { families });
    expect(g.failures).toEqual(['family strict: consistency 95% < min 99%']);
  });

  it('exits 4 when the error ratio is over --max-error-ratio', () => {
    const g = gate(counters({ match: 90, error: 10 }));
    expect(g).toMatchObject({ passed: false, tooManyErrors: true, failures: ['error ratio 10% > max 5%'] });
    expect(gate(counters({ match: 95, error: 5 })).tooManyErrors).toBe(false);
  });

  it('never passes an audit that stopped early, even with nothing judged against it', () => {
    const g = gate(counters({}), {}, { incomplete: true });
    expect(g.passed).toBe(false);
    expect(g.failures).toEqual(['the audit did not finish: its figures cover only the keys judged before it stopped']);
  });

  it('counts only divergences new to the baseline', () => {
    const summary = counters({ match: 95, divergent: 5 });
    const known = gate(summary, {}, { baseline: { file: 'b.json', knownDivergent: 5 } });
    expect(known).toMatchObject({ passed: true, baseline: { file: 'b.json', knownDivergent: 5, newDivergent: 0 } });
    const one = gate(summary, {}, { baseline: { file: 'b.json', knownDivergent: 4 } });
    expect(one.failures).toEqual(['new divergent 1 > max 0 (4 known in the baseline)']);
  });

  it('names the suspected rules problem when a failing family has a systematic difference', () => {
    const warnings = [
      { kind: 'systematic' as const, family: 'events', field: 'day', message: 'field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date; likely a rules or normalization problem, not stale data; check a `date` normalizer' },
      { kind: 'rules' as const, family: 'events', field: 'nmae', message: 'no cached value holds `nmae`' },
    ];
    const events = counters({ divergent: 40 });
    const plans = counters({ match: 98, divergent: 2 });
    const families = [
      { name: 'events', counters: events, minConsistency: 0.9 },
      { name: 'plans', counters: plans },
    ];
    const g = gate(counters({ match: 98, divergent: 42 }), {}, { families, warnings });
    expect(g.failures).toEqual([
      'divergent 42 > max 0 (suspected rules problem in family events, not stale data: field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date)',
      'family events: consistency 0% < min 90% (suspected rules problem in family events, not stale data: field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date)',
    ]);
    // Without a systematic warning the message is the usual one.
    expect(gate(counters({ match: 98, divergent: 2 }), {}, { families: [{ name: 'plans', counters: plans }], warnings }).failures).toEqual(['divergent 2 > max 0']);
  });

  it('fails, and says which family and why, when a whole batch failed at the source, whatever the error ratio', () => {
    const failures: SourceFailure[] = [];
    addSourceFailure(failures, 'users', 500, 'family "users": invalid input syntax for type bigint: "abc"');
    addSourceFailure(failures, 'users', 120, 'family "users": another error');
    // 620 errors in 20,620 keys is 3%, under the default 5%: the ratio alone would pass.
    const verdict = gate(counters({ match: 20_000, error: 620 }), {}, { sourceFailures: failures });
    expect(verdict).toMatchObject({ passed: false, tooManyErrors: true });
    expect(verdict.failures).toEqual([
      'family users: the source query failed for 2 whole batches (620 keys not judged): family "users": invalid input syntax for type bigint: "abc"',
    ]);
    expect(gate(counters({ match: 20_000, error: 620 }), {})).toMatchObject({ passed: true, tooManyErrors: false });
    // A shard whose gate is left to merge still passes.
    expect(gate(counters({ match: 20_000, error: 620 }), { failOn: 'none' }, { sourceFailures: failures })).toMatchObject({ passed: true });
  });
});
