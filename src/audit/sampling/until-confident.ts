import { confidentVerdict } from '../../core/early-stop.js';
import type { Tally } from '../../core/stats.js';
import type { KeyRef } from '../key-ref.js';
import type { FamilyDraw, SamplingReport } from './types.js';

/**
 * `--until-confident`: passes a family's batches through until its tally already decides the
 * `--min-consistency` gate (see `confidentVerdict`), then stops pulling from the draw, so the draw
 * sends no more Redis commands for this family. `--sample` stays the upper limit: the wrapped draw
 * ends there as it would without this flag.
 *
 * The tally is read before each next batch is pulled. Verdicts of batches still being judged are
 * not in it yet, so the decision lags by the batches in flight: stopping is conservative (it can
 * only come later and judge more keys than strictly needed, never earlier), and `afterKeys` is the
 * judged count the decision was made on, which the family's final `judged` may exceed by those
 * in-flight batches.
 */
export function untilConfident(draw: FamilyDraw, tally: Tally, minConsistency: number): FamilyDraw {
  let stoppedEarly: SamplingReport['stoppedEarly'];

  async function* batches(): AsyncGenerator<KeyRef[]> {
    const inner = draw.batches[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const { consistent, judged } = tally.consistencyCounts();
        const because = confidentVerdict(consistent, judged, minConsistency);
        if (because !== undefined) {
          stoppedEarly = { afterKeys: judged, because };
          return;
        }
        const next = await inner.next();
        if (next.done === true) {
          finished = true;
          return;
        }
        yield next.value;
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
  };
}
