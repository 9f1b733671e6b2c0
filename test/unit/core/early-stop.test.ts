import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confidentVerdict } from '../../../src/core/early-stop.js';
import { wilsonLowerBound, wilsonUpperBound } from '../../../src/core/stats.js';

describe('wilsonUpperBound', () => {
  it('mirrors the lower bound: the upper bound of k in n is 1 minus the lower bound of n - k in n', () => {
    for (const [k, n] of [
      [0, 10],
      [3, 10],
      [990, 1000],
      [1000, 1000],
    ] as const) {
      expect(wilsonUpperBound(k, n)!).toBeCloseTo(1 - wilsonLowerBound(n - k, n)!, 12);
    }
  });

  it('is 1 at n of n, null when nothing was judged, and never below the proportion', () => {
    expect(wilsonUpperBound(10, 10)).toBe(1);
    expect(wilsonUpperBound(0, 0)).toBeNull();
    expect(wilsonUpperBound(0, 1000)!).toBeCloseTo(2.7 / 1000, 3);
    expect(wilsonUpperBound(50, 100)!).toBeGreaterThan(0.5);
  });
});

describe('confidentVerdict', () => {
  it('decides nothing before a key is judged', () => {
    expect(confidentVerdict(0, 0, 0.9)).toBeUndefined();
  });

  it('passes once n of n clears the threshold, and not before', () => {
    // n / (n + z²) >= 0.99 from n = 268 on (z² = 2.7055).
    expect(confidentVerdict(267, 267, 0.99)).toBeUndefined();
    expect(confidentVerdict(268, 268, 0.99)).toBe('passes');
  });

  it('never passes on a handful of keys, however low the threshold (the divergent count needs a sample)', () => {
    expect(confidentVerdict(1, 1, 0)).toBeUndefined();
    expect(confidentVerdict(3, 3, 0.5)).toBeUndefined();
    expect(confidentVerdict(29, 29, 0.5)).toBeUndefined();
    expect(confidentVerdict(30, 30, 0.5)).toBe('passes');
    // Failing early stays allowed: a family already below its threshold fails on what it showed.
    expect(confidentVerdict(0, 3, 0.5)).toBe('fails');
  });

  it('fails once the upper bound is below the threshold', () => {
    expect(confidentVerdict(80, 100, 0.9)).toBe('fails');
    expect(confidentVerdict(8, 10, 0.9)).toBeUndefined();
  });

  it('stays undecided while the threshold lies inside the interval', () => {
    expect(confidentVerdict(990, 1000, 0.99)).toBeUndefined();
  });

  it('never passes a threshold of 100%, and fails it at the first divergent key', () => {
    expect(confidentVerdict(1_000_000, 1_000_000, 1)).toBeUndefined();
    expect(confidentVerdict(999, 1000, 1)).toBe('fails');
  });

  it('gives exact bounds at the edges, so a zero-consistency family never passes a tiny threshold', () => {
    expect(wilsonLowerBound(0, 1000)).toBe(0);
    expect(wilsonUpperBound(1000, 1000)).toBe(1);
    expect(confidentVerdict(0, 1000, Number.MIN_VALUE)).toBeUndefined();
    expect(confidentVerdict(0, 1000, 0.01)).toBe('fails');
    expect(confidentVerdict(1000, 1000, 0)).toBe('passes');
  });

  it("never returns 'passes' when the lower bound is below the threshold, nor 'fails' when the upper bound is not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b, min) => {
        const judged = Math.max(a, b);
        const consistent = Math.min(a, b);
        const verdict = confidentVerdict(consistent, judged, min);
        const lower = wilsonLowerBound(consistent, judged);
        const upper = wilsonUpperBound(consistent, judged);
        if (verdict === 'passes') expect(lower!).toBeGreaterThanOrEqual(min);
        if (verdict === 'fails') expect(upper!).toBeLessThan(min);
        if (lower !== null && lower < min) expect(verdict).not.toBe('passes');
        // The verdict never contradicts the gate on the keys already judged.
        if (judged > 0 && verdict === 'passes') expect(consistent / judged).toBeGreaterThanOrEqual(min);
        if (judged > 0 && verdict === 'fails') expect(consistent / judged).toBeLessThan(min);
      }),
      { numRuns: 2000 },
    );
  });
});
