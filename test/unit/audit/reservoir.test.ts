import { describe, expect, it } from 'vitest';
import { Reservoir } from '../../../src/audit/reservoir.js';
import { globMatches } from '../../../src/audit/key-ref.js';

describe('Reservoir', () => {
  it('keeps everything while the stream is shorter than the sample', () => {
    const r = new Reservoir<number>(10, 1);
    for (let i = 0; i < 7; i++) r.offer(i);
    expect([...r.items()]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.seen).toBe(7);
  });

  it('keeps exactly `size` items from a longer stream, each offered at most once', () => {
    const r = new Reservoir<number>(100, 7);
    for (let i = 0; i < 10_000; i++) r.offer(i);
    expect(r.items()).toHaveLength(100);
    expect(new Set(r.items()).size).toBe(100);
  });

  it('is reproducible with the same seed and differs with another', () => {
    const pick = (seed: number) => {
      const r = new Reservoir<number>(20, seed);
      for (let i = 0; i < 5000; i++) r.offer(i);
      return [...r.items()];
    };
    expect(pick(42)).toEqual(pick(42));
    expect(pick(42)).not.toEqual(pick(43));
  });

  it('samples uniformly: every position is kept about size/n of the time (chi-square, 10 bins)', () => {
    // 2000 samples of 10 out of 100: each decile should hold ~2000 picks.
    const bins = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) {
      const r = new Reservoir<number>(10, seed);
      for (let i = 0; i < 100; i++) r.offer(i);
      for (const item of r.items()) bins[Math.floor(item / 10)]! += 1;
    }
    const expected = 2000;
    const chi2 = bins.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: p = 0.001 at 27.88. A biased sampler (e.g. keeping the first 10) fails by far.
    expect(chi2).toBeLessThan(27.88);
  });
});

describe('globMatches', () => {
  it('follows Redis glob semantics for the globs patterns compile to', () => {
    expect(globMatches('user:*', 'user:1:settings')).toBe(true);
    expect(globMatches('user:*', 'users:1')).toBe(false);
    expect(globMatches('a\\*b:*', 'a*b:1')).toBe(true);
    expect(globMatches('a\\*b:*', 'axb:1')).toBe(false);
    expect(globMatches('k?:*', 'kx:1')).toBe(true);
  });
});
