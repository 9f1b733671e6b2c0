import type { Counters } from './stats.js';

export type FailOn = 'divergent' | 'error' | 'none';

export interface GateOptions {
  failOn: FailOn;
  /** Divergent keys tolerated before the gate fails. */
  maxDivergent: number;
  /** Run-wide minimum consistency, 0..1. */
  minConsistency?: number;
}

export interface GateVerdict {
  passed: boolean;
  failures: string[];
}

/** Whether a run passes the deploy gate, and which thresholds failed by how much. */
export function evaluateGate(summary: Counters, options: GateOptions): GateVerdict {
  const failures: string[] = [];
  if (options.failOn !== 'none' && summary.divergent > options.maxDivergent) {
    failures.push(`divergent ${summary.divergent} > max ${options.maxDivergent}`);
  }
  if (options.failOn === 'error' && summary.error > 0) {
    failures.push(`error ${summary.error} > max 0`);
  }
  if (options.minConsistency !== undefined && summary.consistency !== null && summary.consistency < options.minConsistency) {
    failures.push(`consistency ${formatRatio(summary.consistency)} < min ${formatRatio(options.minConsistency)}`);
  }
  return { passed: failures.length === 0, failures };
}

/** Share of sampled keys that could not be judged (error verdicts). */
export function errorRatio(summary: Counters): number {
  return summary.sampled === 0 ? 0 : summary.error / summary.sampled;
}

function formatRatio(ratio: number): string {
  return `${(ratio * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}
