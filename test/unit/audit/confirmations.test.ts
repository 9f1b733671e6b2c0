import { describe, expect, it } from 'vitest';
import { ConfirmationQueue } from '../../../src/audit/confirmations.js';

describe('ConfirmationQueue', () => {
  it('re-reads each item no sooner than the delay, and the items of many batches together', async () => {
    const flushed: { items: number[]; at: number }[] = [];
    const addedAt = new Map<number, number>();
    const queue = new ConfirmationQueue<number>(60, async (items) => void flushed.push({ items, at: Date.now() }), () => {});
    for (let batch = 0; batch < 6; batch++) {
      const items = [batch * 10, batch * 10 + 1];
      for (const i of items) addedAt.set(i, Date.now());
      queue.add(items);
      await new Promise((r) => setTimeout(r, 5));
    }
    await queue.idle();
    const all = flushed.flatMap((f) => f.items);
    expect(all.sort((a, b) => a - b)).toEqual([0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51]);
    for (const f of flushed) for (const i of f.items) expect(f.at - (addedAt.get(i) as number)).toBeGreaterThanOrEqual(59);
    // Six batches' suspects, arriving within half a delay, are re-read in one or two groups.
    expect(flushed.length).toBeLessThanOrEqual(2);
  });

  it('reports a failed re-read and goes on with the next group', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const queue = new ConfirmationQueue<number>(
      10,
      async () => {
        calls++;
        if (calls === 1) throw new Error('lost');
      },
      (e) => errors.push(e),
    );
    queue.add([1]);
    await queue.idle();
    queue.add([2]);
    await queue.idle();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    expect(queue.size).toBe(0);
  });
});
