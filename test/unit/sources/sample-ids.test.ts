import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/config/key-pattern.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { UsageError } from '../../../src/errors.js';
import { distinctPoints, requireSampleTable, sampleCount, seededPick, seededRandom } from '../../../src/sources/sample-ids.js';

describe('seededPick', () => {
  it('picks `count` distinct items, the same for a seed, different for another', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const a = seededPick(items, 100, 1);
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect(seededPick(items, 100, 1)).toEqual(a);
    expect(seededPick(items, 100, 2)).not.toEqual(a);
    expect(seededPick(items, 5000, 1).sort((x, y) => x - y)).toEqual(items);
    expect(items[0]).toBe(0);
  });

  it('is uniform: every item is picked about equally often over many seeds', () => {
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of seededPick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, seed)) counts[i]! += 1;
    // 600 each expected; a biased trim (e.g. the first three) would put 2000 on three items.
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(120);
  });
});

describe('distinctPoints', () => {
  it('draws distinct points inside the range, skipping those given, beyond 2^53 exactly', () => {
    const lo = 9007199254740992n;
    const rng = seededRandom(3);
    const first = distinctPoints(lo, lo + 999n, 500, rng, new Set());
    expect(first).toHaveLength(500);
    expect(new Set(first).size).toBe(500);
    expect(first.every((p) => p >= lo && p <= lo + 999n)).toBe(true);
    const rest = distinctPoints(lo, lo + 999n, 1000, rng, new Set(first));
    // Only 500 points are left in the range.
    expect(rest).toHaveLength(500);
    expect(new Set([...first, ...rest]).size).toBe(1000);
    expect(distinctPoints(lo, lo + 999n, 10, rng, new Set([...first, ...rest]))).toEqual([]);
  });
});

describe('requireSampleTable and sampleCount', () => {
  it('refuses a query-form family with a usage error, and clamps the count', () => {
    const base = { name: 'q', pattern: compilePattern('q:{id}'), key: ['id'] } as unknown as FamilyRule;
    expect(() => requireSampleTable({ ...base, query: 'SELECT 1' })).toThrow(UsageError);
    expect(requireSampleTable({ ...base, table: 'app.users' })).toBe('app.users');
    expect([sampleCount(10.7), sampleCount(-1), sampleCount(Number.NaN)]).toEqual([10, 0, 0]);
  });
});
