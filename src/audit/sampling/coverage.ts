import type { KeyspaceCoverage } from '../../core/run-summary.js';
import { UncoveredPrefixes } from '../../core/uncovered-prefixes.js';
import type { Draws } from './draws.js';

/** Prefixes listed in the report's coverage. */
export const UNCOVERED_PREFIXES_LISTED = 10;

/** Keys a full pass found that no family claims: their exact count and commonest prefixes. */
export class UnmatchedCount {
  keys = 0;
  readonly prefixes = new UncoveredPrefixes();

  add(key: string): void {
    this.keys++;
    this.prefixes.add(key);
  }
}

/**
 * The keys no family covers. Exact when one SCAN pass listed the whole keyspace; otherwise
 * estimated as DBSIZE × the share of the pilot's RANDOMKEY replies no family claims (the prefixes
 * scaled alike); when neither ran (no pass, no RANDOMKEY), not measured: 0 and `exact: false`.
 */
export function keyspaceCoverage(draws: Draws, unmatched: UnmatchedCount): KeyspaceCoverage {
  const { pass, pilot, dbsize } = draws;
  if (pass?.complete === true) {
    return { unmatched: unmatched.keys, exact: true, basis: 'one full SCAN pass', uncoveredPrefixes: unmatched.prefixes.top(UNCOVERED_PREFIXES_LISTED) };
  }
  if (pilot !== undefined && pilot.replies > 0) {
    const scale = dbsize / pilot.replies;
    const prefixes = new UncoveredPrefixes();
    for (const key of pilot.uncovered) prefixes.add(key);
    return {
      unmatched: Math.round(pilot.uncovered.length * scale),
      exact: false,
      basis: `${pilot.uncovered.length} of ${pilot.replies} RANDOMKEY replies unclaimed, × DBSIZE ${dbsize}`,
      uncoveredPrefixes: prefixes.top(UNCOVERED_PREFIXES_LISTED).map((p) => ({ prefix: p.prefix, keys: Math.round(p.keys * scale) })),
    };
  }
  if (pass !== undefined) {
    return { unmatched: unmatched.keys, exact: false, basis: 'a SCAN pass cut short: the keys it listed', uncoveredPrefixes: unmatched.prefixes.top(UNCOVERED_PREFIXES_LISTED) };
  }
  return { unmatched: 0, exact: false, basis: 'not measured: no SCAN pass and no RANDOMKEY', uncoveredPrefixes: [] };
}
