import { describe, expect, it } from 'vitest';
import { awaitsConfirmation } from '../../../src/core/classify.js';
import type { Judgement } from '../../../src/core/verdict.js';

const judged = (verdict: Judgement['verdict']): Judgement => ({ verdict, step: 7, diff: [] });

describe('step 9: which first judgements wait for the confirmation re-read', () => {
  it('a divergent key waits when re-reading is enabled', () => {
    expect(awaitsConfirmation(judged('divergent'), 250)).toBe(true);
  });
  it('a delay of 0 disables the re-read: divergent is final', () => {
    expect(awaitsConfirmation(judged('divergent'), 0)).toBe(false);
  });
  it('every other verdict is final on the first read', () => {
    for (const verdict of ['match', 'within-ttl', 'error', 'skipped'] as const) expect(awaitsConfirmation(judged(verdict), 250)).toBe(false);
  });
});
