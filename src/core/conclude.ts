import { ExitCode } from '../errors.js';
import { errorRatio, evaluateGate, sourceFailureMessage, type GateInput, type GateOptions, type GateVerdict, type SourceFailure } from './gate.js';
import type { RunCoverage, RunSummary } from './run-summary.js';
import type { ShardMeta } from './shard.js';
import type { Counters, FamilyCounters } from './stats.js';
import type { RunWarning } from './warning.js';

/**
 * The one end of a run (STYLE.md "conclude once"): an audit and a merge of shard reports gather
 * what was judged, this pure function turns it, the gate options and the baseline's matches into
 * the run summary, the gate and the exit code, and the I/O around it only writes what it returns.
 */

/** What a run judged, from an audit's tallies or from merged shard reports. */
export interface RunOutcome {
  /** 'audit' or 'merge': only the wording of the incomplete notice differs. */
  kind: 'audit' | 'merge';
  version: string;
  startedAt: string;
  durationMs: number;
  /** Redacted target description. */
  target: Record<string, string>;
  summary: Counters;
  families: FamilyCounters[];
  /** The families' own `minConsistency` thresholds, by family name (they override the run-wide one). */
  minConsistency: Readonly<Record<string, number>>;
  recent?: { withinMs: number; summary: Counters; families: FamilyCounters[] };
  incomplete: boolean;
  abortReason?: string;
  /** Rules problems and systematic differences, in the order the report shows them. */
  warnings: readonly RunWarning[];
  sourceFailures: readonly SourceFailure[];
  shard?: ShardMeta;
  coverage?: RunCoverage;
  replicaLagMs?: Record<string, number>;
}

/** With --baseline: the file, and how many divergent findings it already listed (same key and reason). */
export interface BaselineMatches {
  file: string;
  knownDivergent: number;
  /** The same, among the --recent population's findings. */
  knownRecentDivergent: number;
}

export interface RunConclusion {
  run: RunSummary;
  gate: GateVerdict;
  /** The exit code the gate and the outcome decide (settleExitCode adds a signal and a failed push). */
  exitCode: ExitCode;
  /** Lines for stderr (without the `shadowcheck: ` prefix) explaining an exit code other than 0 or 1. */
  notices: string[];
}

export function concludeRun(outcome: RunOutcome, gateOptions: GateOptions, baseline?: BaselineMatches): RunConclusion {
  const gate = evaluateGate(gateInputOf(outcome, baseline), gateOptions);
  const run: RunSummary = {
    version: outcome.version,
    startedAt: outcome.startedAt,
    durationMs: outcome.durationMs,
    target: { ...outcome.target },
    summary: outcome.summary,
    families: outcome.families,
    gate: { passed: gate.passed, failures: gate.failures, ...(gate.baseline === undefined ? {} : { baseline: gate.baseline }) },
    incomplete: outcome.incomplete,
    ...(outcome.sourceFailures.length === 0 ? {} : { sourceFailures: outcome.sourceFailures }),
    ...(outcome.warnings.length === 0 ? {} : { warnings: [...outcome.warnings] }),
    ...(outcome.shard === undefined ? {} : { shard: outcome.shard }),
    ...(outcome.replicaLagMs === undefined ? {} : { replicaLagMs: outcome.replicaLagMs }),
    ...(outcome.coverage === undefined ? {} : { coverage: outcome.coverage }),
    ...(outcome.recent === undefined ? {} : { recent: outcome.recent }),
    ...(outcome.abortReason === undefined ? {} : { abortReason: outcome.abortReason }),
  };

  if (outcome.incomplete) {
    const notice =
      outcome.kind === 'audit'
        ? `audit incomplete: ${outcome.abortReason ?? 'stopped'}; the report covers the keys judged so far`
        : `merged report incomplete: ${outcome.abortReason ?? 'a shard stopped early'}`;
    return { run, gate, exitCode: ExitCode.connection, notices: [notice] };
  }
  if (gate.tooManyErrors) {
    return { run, gate, exitCode: ExitCode.tooManyErrors, notices: tooManyErrorsNotices(outcome, gate, gateOptions) };
  }
  return { run, gate, exitCode: gate.passed ? ExitCode.ok : ExitCode.gateFailed, notices: [] };
}

/**
 * Why the run exits 4: the error ratio, only when it is over its maximum, and each failed source
 * batch the gate counted. Either reason, or both. (The audit used to state the ratio whenever it
 * exited 4, also when it was within bounds and only a batch had failed; merge's rule is kept.)
 */
function tooManyErrorsNotices(outcome: RunOutcome, gate: GateVerdict, options: GateOptions): string[] {
  const notices: string[] = [];
  const ratio = errorRatio(outcome.summary);
  if (ratio > options.maxErrorRatio) {
    notices.push(
      `${outcome.summary.error} of ${outcome.summary.sampled} keys could not be judged ` +
        `(${percent(ratio)} > --max-error-ratio ${percent(options.maxErrorRatio)})`,
    );
  }
  const counted = new Set(gate.failures);
  for (const message of outcome.sourceFailures.map(sourceFailureMessage)) {
    if (counted.has(message)) notices.push(message);
  }
  return notices;
}

/** The gate's input for an outcome: the same for an audit and for merged shards. */
export function gateInputOf(outcome: Omit<RunOutcome, 'kind' | 'version' | 'startedAt' | 'durationMs' | 'target'>, baseline?: BaselineMatches): GateInput {
  return {
    summary: outcome.summary,
    incomplete: outcome.incomplete,
    families: outcome.families.map((f) => {
      const min = outcome.minConsistency[f.name];
      const short = f.sampling?.short;
      return {
        name: f.name,
        counters: f,
        ...(min === undefined ? {} : { minConsistency: min }),
        ...(short !== undefined && short.drawn === 0 ? { drewNothing: `${short.asked} keys asked, none drawn: ${short.because}` } : {}),
      };
    }),
    warnings: outcome.warnings,
    sourceFailures: outcome.sourceFailures,
    ...(baseline === undefined ? {} : { baseline: { file: baseline.file, knownDivergent: baseline.knownDivergent } }),
    ...(outcome.recent === undefined ? {} : { recent: { counters: outcome.recent.summary, knownDivergent: baseline?.knownRecentDivergent ?? 0 } }),
  };
}

/** What happened after the report was concluded that outranks the gate. */
export interface RunAftermath {
  /** The abort reason of the signal that interrupted the run (`'SIGTERM'`, `'SIGINT'`), when one did. */
  interruptedBy?: unknown;
  /** A --require-push metrics push failed. */
  requiredPushFailed?: boolean;
}

/**
 * The process's exit code: an interrupted run exits as a shell expects of the signal (130, or 143
 * for SIGTERM); otherwise an incomplete run exits 3, then a failed required push exits 3, then the
 * gate decides.
 */
export function settleExitCode(conclusion: RunConclusion, aftermath: RunAftermath = {}): number {
  if (conclusion.run.incomplete) {
    if (aftermath.interruptedBy !== undefined) return aftermath.interruptedBy === 'SIGTERM' ? 143 : 130;
    return conclusion.exitCode;
  }
  if (aftermath.requiredPushFailed === true) return ExitCode.connection;
  return conclusion.exitCode;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}
