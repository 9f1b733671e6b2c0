import { wilsonLowerBound, wilsonUpperBound } from './stats.js';

/**
 * `--until-confident`: whether a family's sample so far already decides its `--min-consistency`
 * gate, so that drawing more keys would only narrow a bound that no longer matters.
 *
 * - 'passes' when the one-sided 95% Wilson lower bound of consistency is at or above the threshold;
 * - 'fails' when the one-sided 95% Wilson upper bound is already below it;
 * - undefined while the threshold lies inside the interval (or nothing was judged yet).
 *
 * `consistent` and `judged` are the figures the report's consistency is made of (match + within-ttl
 * over match + within-ttl + divergent; errors and skipped keys are not judged), so a verdict never
 * contradicts the gate on the keys already judged: the point estimate lies between the two bounds.
 *
 * The bound is looked at once per batch, and repeated looks at a 95% bound are not a 95% sequential
 * test: a family whose true consistency sits just under the threshold can stop as 'passes' somewhat
 * more often than 5% of runs. The report states `stoppedEarly` so a reader knows the sample was cut.
 *
 * 'passes' also needs `MIN_JUDGED_TO_PASS` judged keys: at a low threshold the bound clears it on
 * a handful of keys (1 key at 0%, 3 keys at 50%), and the gate's other test, the count of
 * divergent keys, would then pass on a sample that could not have seen one.
 */
export const MIN_JUDGED_TO_PASS = 30;

export function confidentVerdict(consistent: number, judged: number, minConsistency: number): 'passes' | 'fails' | undefined {
  if (judged <= 0) return undefined;
  const observed = consistent / judged;
  // The point-estimate checks cost nothing and keep the promise above against float rounding.
  const lower = wilsonLowerBound(consistent, judged);
  if (judged >= MIN_JUDGED_TO_PASS && lower !== null && lower >= minConsistency && observed >= minConsistency) return 'passes';
  const upper = wilsonUpperBound(consistent, judged);
  if (upper !== null && upper < minConsistency && observed < minConsistency) return 'fails';
  return undefined;
}
