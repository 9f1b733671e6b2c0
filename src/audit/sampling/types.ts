import type { FamilyRule } from '../../core/rule.js';
import type { Tally } from '../../core/stats.js';
import type { KeyRef } from '../key-batches.js';

/**
 * How a family's keys were drawn (`--sampling`), as the report states it:
 * - `scan`: a full SCAN (one pass shared by every scanning family) with reservoir sampling; exact.
 * - `random`: pipelined RANDOMKEY, keeping the family's keys and dropping repeats.
 * - `source`: random rows of the family's table rendered into keys; cannot find orphans.
 * - `all`: `--all`, every key of one full SCAN pass.
 */
export type SamplingMethod = 'scan' | 'random' | 'source' | 'all';

/** What the report says about one family's draw (JSON: `families[].sampling`). */
export interface SamplingReport {
  method: SamplingMethod;
  /** Keys the method looked at to draw this family's sample (SCAN replies' keys, RANDOMKEY replies, rows). */
  examined: number;
  /** Redis commands the draw sent (SCAN or RANDOMKEY calls; for `source`, the reads of rendered keys). */
  redisCalls: number;
  /** The method's known bias in one sentence, e.g. "cannot find orphaned keys (no row to render them from)". */
  bias?: string;
  /** `source`: rendered keys that had no cache entry, so were not judged. */
  notCached?: number;
  /** `--until-confident`: the keys judged when the bound was decided, and which way. */
  stoppedEarly?: { afterKeys: number; because: 'passes' | 'fails' };
  /** Why the planner chose this method, e.g. "family holds ~10% of 5,000,000 keys". */
  why?: string;
}

/** One family's keys as the planner draws them: batches to judge, and what the draw did. */
export interface FamilyDraw {
  rule: FamilyRule;
  batches: AsyncIterable<KeyRef[]>;
  /** Read after the batches are exhausted. */
  report(): SamplingReport;
}

/** What a draw may ask of the running audit: whether to stop early (`--until-confident`). */
export interface DrawFeedback {
  /** The family's tally so far (judged keys), read between batches. */
  tally: Tally;
}
