import type { RunSink } from '../audit/run-sinks.js';
import type { Finding } from '../core/verdict.js';
import type { DemoPlan } from './plan.js';

/** A run sink that compares every verdict with the one the demo planted; `surprises` lists the others. */
export interface PlantedVerdictCheck extends RunSink {
  readonly surprises: readonly string[];
}

export function plantedVerdictCheck(plan: Pick<DemoPlan, 'expected'>): PlantedVerdictCheck {
  const surprises: string[] = [];
  return {
    surprises,
    onFinding(finding: Finding) {
      // A key the plan did not plant anything on is a cache-aside entry that must match.
      const expected = plan.expected.get(finding.key) ?? { verdict: 'match' };
      if (expected.verdict !== finding.verdict || expected.reason !== finding.reason) {
        surprises.push(`${finding.key}: expected ${label(expected)}, got ${label(finding)}`);
      }
    },
  };
}

function label(j: { verdict: string; reason?: string | undefined }): string {
  return j.reason === undefined ? j.verdict : `${j.verdict}/${j.reason}`;
}
