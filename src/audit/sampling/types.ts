import type { FamilyRule } from '../../core/rule.js';
import type { Tally } from '../../core/stats.js';
import type { SamplingReport } from '../../core/sampling-plan.js';
import type { KeyRef } from '../key-ref.js';

// The method and the report are declared in the pure core (the report document carries them);
// re-exported here, where the draws and their consumers have always imported them.
export type { SamplingMethod, SamplingReport } from '../../core/sampling-plan.js';

/** One family's keys as the planner draws them: batches to judge, and what the draw did. */
export interface FamilyDraw {
  rule: FamilyRule;
  batches: AsyncIterable<KeyRef[]>;
  /** Read after the batches are exhausted. */
  report(): SamplingReport;
  /**
   * Told, for the keys of each batch handed out, that their first judgement is over (judged, failed
   * or dropped), so a draw can pace itself on what is decided (`--until-confident`).
   */
  settled?(keys: number): void;
}

/** What a draw may ask of the running audit: whether to stop early (`--until-confident`). */
export interface DrawFeedback {
  /** The family's tally so far (judged keys), read between batches. */
  tally: Tally;
}
