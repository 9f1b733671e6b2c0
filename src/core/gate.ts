import type { Counters } from './stats.js';
import { suspectedRulesProblem } from './systematic.js';
import type { RunWarning } from './warning.js';

export type FailOn = 'divergent' | 'error' | 'none';

export interface GateOptions {
  /** Which key verdicts fail the gate by their count; ratio thresholds below apply regardless. */
  failOn: FailOn;
  /** Divergent keys tolerated (new ones only, with a baseline). */
  maxDivergent: number;
  /** Minimum consistency, run-wide and for each family without its own `minConsistency`. */
  minConsistency?: number;
  /** Above this share of sampled keys that could not be judged, the run exits 4. */
  maxErrorRatio: number;
}

export interface FamilyGateInput {
  name: string;
  counters: Counters;
  /** The rule's own `minConsistency`, which overrides the run-wide one for this family. */
  minConsistency?: number;
  /**
   * The family's draw expected keys and judged none (a `random` or `source` draw that came back
   * short with 0 keys: every sampled row uncached, or RANDOMKEY's call limit hit), and why.
   */
  drewNothing?: string;
}

export interface GateInput {
  summary: Counters;
  /** The audit stopped early: its figures cover only part of the keys, so it cannot pass. */
  incomplete?: boolean;
  families: readonly FamilyGateInput[];
  /** With --baseline: the file, and how many divergent keys it already listed with the same reason. */
  baseline?: { file: string; knownDivergent: number };
  /** With --recent: the keys of recently changed rows, judged apart from the sample. */
  recent?: { counters: Counters; knownDivergent: number };
  /** The run's warnings: a failure in a family with a systematic difference names the suspected rules problem. */
  warnings?: readonly RunWarning[];
  /**
   * Batches whose source query failed as a whole (not a timeout), per family: every key of them
   * became `error/source-error` for a reason that was not its own (addSourceFailure builds it).
   */
  sourceFailures?: readonly SourceFailure[];
}

/** Whole batches of one family that the source failed to load, with the first error seen. */
export interface SourceFailure {
  family: string;
  batches: number;
  keys: number;
  message: string;
}

/** Counts one failed batch into `failures` (one entry per family, keeping its first message). */
export function addSourceFailure(failures: SourceFailure[], family: string, keys: number, message: string): void {
  const known = failures.find((f) => f.family === family);
  if (known === undefined) failures.push({ family, batches: 1, keys, message });
  else {
    known.batches++;
    known.keys += keys;
  }
}

export interface GateVerdict {
  passed: boolean;
  /** Each failed threshold, with the figure and the limit. */
  failures: string[];
  /**
   * Keys could not be judged beyond what the gate tolerates: the error ratio is over its maximum,
   * or a whole batch failed at the source. The run exits 4 rather than 1.
   */
  tooManyErrors: boolean;
  baseline?: { file: string; knownDivergent: number; newDivergent: number };
}

/** Whether a run passes the deploy gate, and which thresholds failed by how much. */
export function evaluateGate(input: GateInput, options: GateOptions): GateVerdict {
  const { summary } = input;
  const failures: string[] = [];
  const known = input.baseline?.knownDivergent ?? 0;
  const counted = summary.divergent - known;

  // A family whose differences are systematic fails for a rules problem, not for stale data: say so.
  const suspected = (family: string): string => {
    const clause = suspectedRulesProblem(input.warnings, family);
    return clause === undefined ? '' : ` (${clause})`;
  };
  const why = input.families
    .filter((f) => f.counters.divergent > 0)
    .map((f) => suspectedRulesProblem(input.warnings, f.name))
    .filter((clause): clause is string => clause !== undefined);
  const suspectedAnywhere = why.length === 0 ? '' : ` (${why.join('; ')})`;
  if (options.failOn !== 'none' && counted > options.maxDivergent) {
    failures.push(
      (input.baseline === undefined
        ? `divergent ${counted} > max ${options.maxDivergent}`
        : `new divergent ${counted} > max ${options.maxDivergent} (${known} known in the baseline)`) + suspectedAnywhere,
    );
  }
  if (options.failOn === 'error' && summary.error > 0) failures.push(`error ${summary.error} > max 0`);
  if (input.recent !== undefined && options.failOn !== 'none') {
    const recentCounted = input.recent.counters.divergent - input.recent.knownDivergent;
    if (recentCounted > options.maxDivergent) {
      failures.push(`${input.baseline === undefined ? '' : 'new '}recent-write divergent ${recentCounted} > max ${options.maxDivergent}`);
    }
  }

  if (options.minConsistency !== undefined && summary.consistency !== null && summary.consistency < options.minConsistency) {
    failures.push(`consistency ${percent(summary.consistency)} < min ${percent(options.minConsistency)}${suspectedAnywhere}`);
  }
  for (const family of input.families) {
    const min = family.minConsistency ?? options.minConsistency;
    const actual = family.counters.consistency;
    if (min !== undefined && actual !== null && actual < min) {
      failures.push(`family ${family.name}: consistency ${percent(actual)} < min ${percent(min)}${suspected(family.name)}`);
    }
  }

  if (input.incomplete === true) failures.push('the audit did not finish: its figures cover only the keys judged before it stopped');
  // An audit of nothing proves nothing: a wrong --redis database or a mistyped pattern must not
  // turn a deploy gate green. `--fail-on none` (a shard whose gate is left to merge) opts out.
  if (options.failOn !== 'none' && input.incomplete !== true && summary.sampled === 0 && (input.recent?.counters.sampled ?? 0) === 0) {
    failures.push('no key was judged: no family pattern matched a key (check --redis, its logical database, and the patterns)');
  }

  // A family whose rows exist but whose draw judged none compared nothing: the run's other
  // families must not turn the gate green for it (a wrong pattern or an emptied cache).
  if (options.failOn !== 'none' && input.incomplete !== true) {
    for (const family of input.families) {
      if (family.drewNothing !== undefined && family.counters.sampled === 0) failures.push(`family ${family.name}: no key was judged (${family.drewNothing}; check the pattern and --redis)`);
    }
  }

  const ratio = errorRatio(summary);
  const overRatio = ratio > options.maxErrorRatio;
  if (overRatio) failures.push(`error ratio ${percent(ratio)} > max ${percent(options.maxErrorRatio)}`);
  // A batch that failed as a whole hid every key in it, whatever they were (a stale entry with no
  // TTL among them): the ratio tolerates keys that cannot be judged by themselves, not a query
  // that failed for all of them, so it fails the gate whatever the ratio (not with --fail-on none).
  const failedBatches = options.failOn === 'none' ? [] : (input.sourceFailures ?? []);
  for (const f of failedBatches) failures.push(sourceFailureMessage(f));
  const tooManyErrors = overRatio || failedBatches.length > 0;

  const verdict: GateVerdict = { passed: failures.length === 0, failures, tooManyErrors };
  if (input.baseline !== undefined) verdict.baseline = { ...input.baseline, newDivergent: counted };
  return verdict;
}

/**
 * How the gate names a source failure. The reporters print the same sentence for a failure the
 * gate did not count (`--fail-on none`), and leave out those its failures already state.
 */
export function sourceFailureMessage(f: SourceFailure): string {
  return (
    `family ${f.family}: the source query failed for ${f.batches === 1 ? 'a whole batch' : `${f.batches} whole batches`} ` +
    `(${f.keys} ${f.keys === 1 ? 'key' : 'keys'} not judged): ${f.message}`
  );
}

/** Share of sampled keys that could not be judged (error verdicts). */
export function errorRatio(summary: Counters): number {
  return summary.sampled === 0 ? 0 : summary.error / summary.sampled;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}
