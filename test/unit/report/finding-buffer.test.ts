import { describe, expect, it } from 'vitest';
import { FindingBuffer, type NonMatchVerdict } from '../../../src/report/finding-buffer.js';

function fill(max: number, verdicts: NonMatchVerdict[]): FindingBuffer<string> {
  const buffer = new FindingBuffer<string>(max);
  verdicts.forEach((v, i) => buffer.add(v, `${v}#${i}`));
  return buffer;
}

describe('FindingBuffer', () => {
  it('keeps everything under the bound, in arrival order', () => {
    const b = fill(10, ['skipped', 'divergent', 'within-ttl', 'error']);
    expect(b.inArrivalOrder()).toEqual(['skipped#0', 'divergent#1', 'within-ttl#2', 'error#3']);
    expect(b.bySeverity()).toEqual(['divergent#1', 'error#3', 'within-ttl#2', 'skipped#0']);
    expect(b.seen).toBe(4);
    expect(b.omitted).toBe(0);
  });

  it('lets a more severe finding evict the newest of the least severe ones when full', () => {
    const b = fill(3, ['within-ttl', 'skipped', 'within-ttl', 'skipped', 'divergent', 'error']);
    // skipped#3 arrives when full and is dropped; divergent#4 evicts skipped#1; error#5 evicts
    // the newest within-ttl (#2).
    expect(b.inArrivalOrder()).toEqual(['within-ttl#0', 'divergent#4', 'error#5']);
    expect(b.seen).toBe(6);
    expect(b.omitted).toBe(3);
  });

  it('drops a finding no more severe than anything kept', () => {
    const b = fill(2, ['divergent', 'divergent', 'divergent', 'error']);
    expect(b.inArrivalOrder()).toEqual(['divergent#0', 'divergent#1']);
    expect(b.omitted).toBe(2);
  });

  it('keeps nothing for a bound of zero or a nonsensical bound, but still counts', () => {
    for (const max of [0, -5, Number.NaN]) {
      const b = fill(max, ['divergent', 'error']);
      expect(b.inArrivalOrder()).toEqual([]);
      expect(b.seen).toBe(2);
      expect(b.omitted).toBe(2);
    }
  });
});
