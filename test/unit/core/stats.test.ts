import { describe, expect, it } from 'vitest';
import { Tally, toNines, wilsonLowerBound } from '../../../src/core/stats.js';
import type { Judgement } from '../../../src/core/verdict.js';

const j = (verdict: Judgement['verdict'], reason?: Judgement['reason'], staleAgeMs?: number): Judgement => {
  const out: Judgement = { verdict, step: 1, diff: [] };
  if (reason !== undefined) out.reason = reason;
  if (staleAgeMs !== undefined) out.staleAgeMs = staleAgeMs;
  return out;
};

describe('Tally', () => {
  it('counts verdicts and reasons; judged excludes error and skipped', () => {
    const t = new Tally();
    for (let i = 0; i < 6; i++) t.add(j('match'));
    t.add(j('within-ttl', 'ttl-bounded'));
    t.add(j('divergent', 'no-ttl'));
    t.add(j('error', 'undecodable'));
    t.add(j('skipped', 'vanished'));
    t.unmatched = 3;
    const c = t.counters();
    expect(c).toMatchObject({ sampled: 10, judged: 8, match: 6, withinTtl: 1, divergent: 1, error: 1, skipped: 1, unmatched: 3 });
    expect(c.consistency).toBe(7 / 8);
    expect(c.strictConsistency).toBe(6 / 8);
    expect(c.byReason['no-ttl']).toBe(1);
    expect(c.byReason['undecodable']).toBe(1);
    expect(c.byReason['orphan']).toBe(0);
  });

  it('reports null ratios when nothing could be judged', () => {
    const t = new Tally();
    t.add(j('error', 'timeout'));
    expect(t.counters()).toMatchObject({ judged: 0, consistency: null, strictConsistency: null, nines: null });
  });

  it('gives stale-age quantiles within 0.1% in fixed memory', () => {
    const t = new Tally();
    for (let i = 1; i <= 100_000; i++) t.add(j('within-ttl', 'ttl-bounded', i * 10));
    const { p50, p99, max } = t.counters().staleAgeMs;
    expect(p50).toBeGreaterThanOrEqual(500_000 * 0.999);
    expect(p50).toBeLessThanOrEqual(500_000 * 1.001);
    expect(p99).toBeGreaterThanOrEqual(990_000 * 0.999);
    expect(p99).toBeLessThanOrEqual(990_000 * 1.001);
    expect(max).toBeGreaterThanOrEqual(1_000_000 * 0.999);
    expect(t.counters().staleAgeMs).not.toEqual(new Tally().counters().staleAgeMs);
  });

  it('has null stale ages when no stale key had a known change time', () => {
    const t = new Tally();
    t.add(j('within-ttl', 'ttl-bounded-assumed'));
    expect(t.counters().staleAgeMs).toEqual({ p50: null, p99: null, max: null });
  });

  it('merges another tally: counters add, histograms combine', () => {
    const a = new Tally();
    const b = new Tally();
    a.add(j('match'));
    a.add(j('divergent', 'orphan', 1000));
    b.add(j('divergent', 'orphan', 5000));
    b.unmatched = 2;
    a.merge(b);
    const c = a.counters();
    expect(c).toMatchObject({ sampled: 3, divergent: 2, unmatched: 2 });
    expect(c.byReason.orphan).toBe(2);
    expect(c.staleAgeMs.max).toBeGreaterThanOrEqual(4995);
  });
});

describe('toNines', () => {
  it('is -log10(1 - ratio)', () => {
    expect(toNines(0.999)).toBe(3);
    expect(toNines(0.9)).toBe(1);
    expect(toNines(0)).toBe(0);
  });
  it('is null for a perfect or unknown ratio', () => {
    expect(toNines(1)).toBeNull();
    expect(toNines(null)).toBeNull();
  });
});

describe('honest figures', () => {
  it('bounds consistency from below for the sample size: 0 failures in n supports about 1 - 2.7/n', () => {
    expect(wilsonLowerBound(1000, 1000)).toBeCloseTo(1000 / (1000 + 1.6448536269514722 ** 2), 10);
    expect(wilsonLowerBound(1000, 1000)).toBeLessThan(0.9974);
    expect(wilsonLowerBound(1000, 1000)).toBeGreaterThan(0.997);
    expect(wilsonLowerBound(0, 10)).toBe(0);
    expect(wilsonLowerBound(0, 0)).toBeNull();
  });

  it('grows with the sample: the same perfect ratio means more with more keys', () => {
    expect(wilsonLowerBound(100_000, 100_000)!).toBeGreaterThan(wilsonLowerBound(1000, 1000)!);
  });

  it('reports the bound next to each consistency', () => {
    const t = new Tally();
    for (let i = 0; i < 99; i++) t.add(j('match'));
    t.add(j('divergent', 'no-ttl'));
    const c = t.counters();
    expect(c.consistency).toBe(0.99);
    expect(c.consistencyLowerBound).toBeCloseTo(wilsonLowerBound(99, 100)!, 12);
    expect(c.consistencyLowerBound!).toBeLessThan(0.99);
  });

  it('advises the smallest of the per-key TTL limits, and counts the keys behind it', () => {
    const t = new Tally();
    expect(t.counters().ttlAdvice).toBeNull();
    t.add({ ...j('within-ttl', 'ttl-bounded'), ttlAdviceMs: 400_000 });
    t.add({ ...j('divergent', 'stale-beyond-budget'), ttlAdviceMs: 120_000 });
    t.add({ ...j('within-ttl', 'ttl-bounded'), ttlAdviceMs: 250_000 });
    expect(t.counters().ttlAdvice).toEqual({ maxTtlMs: 120_000, basedOnKeys: 3 });
  });
});

describe('stale-age quantiles', () => {
  it('never exceed the max (a percentile is the top of its bucket)', () => {
    const t = new Tally();
    t.add(j('within-ttl', 'ttl-bounded', 1000));
    t.add(j('within-ttl', 'ttl-bounded', 4_000_000));
    const { p50, p99, max } = t.counters().staleAgeMs;
    expect(max).toBe(4_000_000);
    expect(p99).toBeLessThanOrEqual(max!);
    expect(p50).toBeLessThanOrEqual(max!);
  });
});
