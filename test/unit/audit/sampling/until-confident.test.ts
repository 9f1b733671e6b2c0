import { describe, expect, it } from 'vitest';
import type { KeyRef } from '../../../../src/audit/key-ref.js';
import type { FamilyDraw, SamplingReport } from '../../../../src/audit/sampling/types.js';
import { untilConfident } from '../../../../src/audit/sampling/until-confident.js';
import type { FamilyRule } from '../../../../src/core/rule.js';
import { Tally } from '../../../../src/core/stats.js';
import type { Judgement } from '../../../../src/core/verdict.js';

const rule = { name: 'users' } as FamilyRule;
const match: Judgement = { verdict: 'match', step: 1, diff: [] };
const divergent: Judgement = { verdict: 'divergent', reason: 'no-ttl', step: 1, diff: [] };
const errored: Judgement = { verdict: 'error', reason: 'timeout', step: 1, diff: [] };

/** A draw of `count` batches of `size` keys that counts how many batches were pulled and whether it was closed. */
function fakeDraw(count: number, size: number) {
  const state = { pulled: 0, closed: false };
  async function* batches(): AsyncGenerator<KeyRef[]> {
    try {
      for (let b = 0; b < count; b++) {
        state.pulled++;
        yield Array.from({ length: size }, (_, i) => ({ raw: Buffer.from(`u:${b * size + i}`), key: `u:${b * size + i}`, id: String(b * size + i) }));
      }
    } finally {
      state.closed = true;
    }
  }
  const report: SamplingReport = { method: 'random', examined: 123, redisCalls: 45 };
  const draw: FamilyDraw = { rule, batches: batches(), report: () => ({ ...report, examined: state.pulled * size }) };
  return { draw, state };
}

/** Judges each batch as it arrives (no batch in flight), with `verdictOf(index)` per key, and reports it settled. */
async function judgeAll(draw: FamilyDraw, tally: Tally, verdictOf: (index: number) => Judgement): Promise<number> {
  let index = 0;
  for await (const batch of draw.batches) {
    for (const _ of batch) tally.add(verdictOf(index++));
    draw.settled?.(batch.length);
  }
  return index;
}

describe('untilConfident', () => {
  it('stops pulling as soon as an all-match family clears the threshold, and says so', async () => {
    const { draw, state } = fakeDraw(100, 50);
    const tally = new Tally();
    const judged = await judgeAll(untilConfident(draw, tally, 0.99), tally, () => match);
    // 268 of 268 clears 99%: six batches of 50 (300 keys) are needed, the seventh is never pulled.
    expect(judged).toBe(300);
    expect(state.pulled).toBe(6);
    expect(state.closed).toBe(true);
  });

  it('records stoppedEarly beside the draw report', async () => {
    const { draw } = fakeDraw(100, 50);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.99);
    expect(wrapped.rule).toBe(rule);
    await judgeAll(wrapped, tally, () => match);
    expect(wrapped.report()).toEqual({ method: 'random', examined: 300, redisCalls: 45, stoppedEarly: { afterKeys: 300, because: 'passes' } });
  });

  it('stops as failing when the upper bound is already under the threshold', async () => {
    const { draw, state } = fakeDraw(100, 20);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.95);
    // Every fifth key divergent: 80% consistent, far below 95%.
    await judgeAll(wrapped, tally, (i) => (i % 5 === 0 ? divergent : match));
    expect(wrapped.report().stoppedEarly?.because).toBe('fails');
    expect(state.pulled).toBeLessThan(100);
  });

  it('counts only judged keys: errors do not make a family confident', async () => {
    const { draw, state } = fakeDraw(10, 50);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.99);
    await judgeAll(wrapped, tally, () => errored);
    expect(state.pulled).toBe(10);
    expect(wrapped.report().stoppedEarly).toBeUndefined();
  });

  it('passes every batch through when the sample ends undecided, with no stoppedEarly', async () => {
    const { draw, state } = fakeDraw(4, 50);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.99);
    const judged = await judgeAll(wrapped, tally, () => match);
    expect(judged).toBe(200);
    expect(state.pulled).toBe(4);
    expect(wrapped.report()).toEqual({ method: 'random', examined: 200, redisCalls: 45 });
  });

  it('decides on the tally as it stands: verdicts still in flight are not counted yet, and at most 100 keys are in flight', async () => {
    const { draw, state } = fakeDraw(20, 500);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.99);
    // Judged concurrently, as the pipeline does: each batch settles a few turns after it is taken.
    let taken = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const judging: Promise<void>[] = [];
    for await (const batch of wrapped.batches) {
      taken += batch.length;
      inFlight += batch.length;
      mostInFlight = Math.max(mostInFlight, inFlight);
      judging.push(
        new Promise<void>((resolve) => setTimeout(resolve, 2)).then(() => {
          for (const _ of batch) tally.add(match);
          inFlight -= batch.length;
          wrapped.settled?.(batch.length);
        }),
      );
    }
    await Promise.all(judging);
    const stopped = wrapped.report().stoppedEarly;
    expect(stopped?.because).toBe('passes');
    // A --batch of 500 goes out 50 keys at a time, at most 100 undecided: the stop comes near the
    // 268 keys that clear 99%, not after a whole sample of batches.
    expect(mostInFlight).toBeLessThanOrEqual(100);
    expect(stopped?.afterKeys).toBeGreaterThanOrEqual(268);
    expect(taken).toBeLessThanOrEqual((stopped?.afterKeys ?? 0) + 100);
    expect(state.pulled).toBe(1);
  });

  it('a consumer that never reports settled keys is paced slowly, not hung', async () => {
    const { draw } = fakeDraw(1, 150);
    const tally = new Tally();
    const wrapped = untilConfident(draw, tally, 0.99);
    let taken = 0;
    const started = Date.now();
    for await (const batch of wrapped.batches) taken += batch.length;
    expect(taken).toBe(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
