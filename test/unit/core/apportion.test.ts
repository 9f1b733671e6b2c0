import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion } from '../../../src/core/apportion.js';

describe('apportion (largest remainder)', () => {
  it('splits in proportion, the leftover to the largest fractional parts, ties to the earlier node', () => {
    expect(apportion(1000, [3000, 1000, 0])).toEqual([750, 250, 0]);
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [5, 3, 2])).toEqual([4, 2, 1]); // 3.5, 2.1, 1.4: the 0.5 wins the leftover
    expect(apportion(5, [0, 0])).toEqual([0, 0]);
    expect(apportion(0, [4, 5])).toEqual([0, 0]);
    expect(apportion(3, [])).toEqual([]);
  });

  it('rounds exactly for sizes beyond float precision', () => {
    expect(apportion(3, [2 ** 52 + 1, 2 ** 52 + 1, 2 ** 52 + 1])).toEqual([1, 1, 1]);
    expect(apportion(1_000_000, [50_000_000_000, 1])).toEqual([1_000_000, 0]);
  });

  it('refuses a negative or fractional total or weight', () => {
    expect(() => apportion(-1, [1])).toThrow(RangeError);
    expect(() => apportion(1.5, [1])).toThrow(RangeError);
    expect(() => apportion(1, [-2])).toThrow(RangeError);
  });

  it('always sums to the total, never gives a node of weight 0 a call, and stays within one of the exact quota', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.array(fc.nat(10_000_000), { minLength: 1, maxLength: 12 }), (total, weights) => {
        const shares = apportion(total, weights);
        const sum = weights.reduce((a, w) => a + w, 0);
        if (sum === 0) return shares.every((s) => s === 0);
        expect(shares.reduce((a, s) => a + s, 0)).toBe(total);
        weights.forEach((w, i) => {
          const exact = (total * w) / sum;
          const share = shares[i] as number;
          if (w === 0) expect(share).toBe(0);
          expect(share).toBeGreaterThanOrEqual(Math.floor(exact));
          expect(share).toBeLessThanOrEqual(Math.ceil(exact));
        });
        return true;
      }),
    );
  });
});
