import { confidentVerdict } from '../../core/early-stop.js';
import type { Tally } from '../../core/stats.js';
import type { KeyRef } from '../key-ref.js';
import type { FamilyDraw, SamplingReport } from './types.js';

/** Keys handed to the judge at a time, and how many may be undecided at once. */
const STEP = 50;
const UNDECIDED_AT_MOST = 2 * STEP;
/**
 * A consumer that never reports settled keys (draw.settled) must not hang the run: after this long
 * without a report the next keys go out anyway, slowly, instead of never.
 */
const SETTLE_WAIT_MS = 1000;

/**
 * `--until-confident`: passes a family's keys through until its tally already decides the
 * `--min-consistency` gate (see `confidentVerdict`), then stops pulling from the draw, so the draw
 * sends no more Redis commands for this family. `--sample` stays the upper limit: the wrapped draw
 * ends there as it would without this flag.
 *
 * The tally only holds keys whose judgement is over, so the keys go out STEP at a time, and no more
 * once UNDECIDED_AT_MOST of them are still being judged: otherwise a whole --batch (500 keys, a
 * sample of 1000 in two) would be in flight before the first verdict, and nothing could stop early.
 * `afterKeys` is the judged count the decision was made on; the family's final `judged` may exceed
 * it by the keys then in flight (at most UNDECIDED_AT_MOST).
 */
export function untilConfident(draw: FamilyDraw, tally: Tally, minConsistency: number): FamilyDraw {
  let stoppedEarly: SamplingReport['stoppedEarly'];
  let handedOut = 0;
  let settled = 0;
  let wake: (() => void) | undefined;

  /** Waits until few enough keys are undecided, then says whether the bound decides already. */
  async function decided(): Promise<boolean> {
    // Every key handed out settles (judged, failed or dropped), or the consumer stops pulling.
    while (handedOut - settled >= UNDECIDED_AT_MOST) {
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), SETTLE_WAIT_MS);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!waited) break;
    }
    const { consistent, judged } = tally.consistencyCounts();
    const because = confidentVerdict(consistent, judged, minConsistency);
    if (because !== undefined) stoppedEarly = { afterKeys: judged, because };
    return because !== undefined;
  }

  async function* batches(): AsyncGenerator<KeyRef[]> {
    const inner = draw.batches[Symbol.asyncIterator]();
    let finished = false;
    try {
      // Checked before each pull too: a random draw's next batch costs RANDOMKEY calls.
      while (!(await decided())) {
        const next = await inner.next();
        if (next.done === true) {
          finished = true;
          return;
        }
        for (let i = 0; i < next.value.length; i += STEP) {
          if (i > 0 && (await decided())) return;
          const chunk = next.value.slice(i, i + STEP);
          handedOut += chunk.length;
          yield chunk;
        }
      }
    } finally {
      // Stopped early, or the consumer left: let the draw release what it holds (a SCAN cursor).
      if (!finished) await inner.return?.();
    }
  }

  return {
    rule: draw.rule,
    batches: batches(),
    report: () => ({ ...draw.report(), ...(stoppedEarly === undefined ? {} : { stoppedEarly }) }),
    settled: (keys) => {
      settled += keys;
      draw.settled?.(keys);
      const resolve = wake;
      wake = undefined;
      resolve?.();
    },
  };
}
