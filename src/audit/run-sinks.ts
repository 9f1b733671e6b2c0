import type { BaselineMatches } from '../core/conclude.js';
import type { RunSummary } from '../core/run-summary.js';
import { SystematicTally } from '../core/systematic.js';
import type { Finding } from '../core/verdict.js';
import { MetricsPushError, type MetricsRecorder } from '../metrics/index.js';
import type { Reporter } from '../report/types.js';
import type { Baseline } from './baseline.js';
import type { AuditProgress } from './log.js';

/**
 * One consumer of a run's findings (STYLE.md, vitest reporters: one interface, optional awaitable
 * hooks). The reporter, the metrics recorder, the progress bar, the baseline's count and the demo's
 * planted-verdict check are each a sink, fed in list order; audit and merge feed the same list.
 */
export interface RunSink {
  /** Judging starts; about this many keys are expected. */
  onRunStart?(estimatedKeys: number): void;
  /** Every judged or skipped key, match included, as it is decided. */
  onFinding?(finding: Finding): void | Promise<void>;
  /** Judging stopped (finished, or stopped early): nothing more will be decided. */
  onJudgingEnd?(): void;
  /** The concluded run, once, after the last finding. */
  onRunEnd?(run: RunSummary): void | Promise<void>;
}

/** Feeds every sink in list order; a hook that returns a promise is awaited before the next sink. */
export class RunSinks {
  constructor(private readonly sinks: readonly RunSink[]) {}

  start(estimatedKeys: number): void {
    for (const sink of this.sinks) sink.onRunStart?.(estimatedKeys);
  }

  /**
   * Undefined when every sink took the finding synchronously (most do): run-audit.ts then awaits
   * nothing, which keeps a million findings' promises off the heap and the microtask queue.
   */
  finding(finding: Finding): Promise<void> | undefined {
    for (let i = 0; i < this.sinks.length; i++) {
      const pending = this.sinks[i]?.onFinding?.(finding);
      if (pending !== undefined) return this.rest(pending, finding, i + 1);
    }
    return undefined;
  }

  private async rest(pending: Promise<void>, finding: Finding, from: number): Promise<void> {
    await pending;
    for (const sink of this.sinks.slice(from)) await sink.onFinding?.(finding);
  }

  judgingEnded(): void {
    for (const sink of this.sinks) sink.onJudgingEnd?.();
  }

  async end(run: RunSummary): Promise<void> {
    for (const sink of this.sinks) await sink.onRunEnd?.(run);
  }
}

/** The report format's reporter; a failed write is rethrown as `wrapError` makes it (exit 3, named output). */
export function reporterSink(reporter: Reporter, wrapError: (error: unknown) => Error): RunSink {
  // Undefined when the reporter wrote synchronously, so that RunSinks awaits nothing.
  const writing = (work: void | Promise<void>): Promise<void> | undefined => {
    if (!(work instanceof Promise)) return undefined;
    return work.catch((error: unknown) => {
      throw wrapError(error);
    });
  };
  return {
    onFinding: (finding) => writing(reporter.onFinding?.(finding)),
    onRunEnd: (run) => writing(reporter.onEnd?.(run)),
  };
}

/**
 * The Pushgateway: observes every finding, pushes once at the end. A failed push is reported on
 * stderr and leaves the exit code alone, unless it is required (--require-push): `requiredPushFailed`.
 */
export interface MetricsSink extends RunSink {
  readonly requiredPushFailed: boolean;
}

export function metricsSink(metrics: { recorder: MetricsRecorder; required: boolean }, stderr: NodeJS.WritableStream = process.stderr): MetricsSink {
  let requiredPushFailed = false;
  return {
    get requiredPushFailed() {
      return requiredPushFailed;
    },
    onFinding: (finding) => metrics.recorder.observe(finding),
    async onRunEnd(run) {
      try {
        await metrics.recorder.push(run);
      } catch (error) {
        if (!(error instanceof MetricsPushError)) throw error;
        stderr.write(`shadowcheck: ${error.message}\n${error.hint === undefined ? '' : `  hint: ${error.hint}\n`}`);
        requiredPushFailed = metrics.required;
      }
    },
  };
}

export function progressSink(progress: AuditProgress): RunSink {
  return {
    onRunStart: (estimatedKeys) => progress.start(estimatedKeys),
    onFinding: (finding) => progress.tick(finding),
    onJudgingEnd: () => progress.stop(),
  };
}

/** Counts the divergent findings a --baseline already lists (same key and reason), per population. */
export interface BaselineSink extends RunSink {
  matches(): BaselineMatches;
}

export function baselineSink(baseline: Baseline): BaselineSink {
  let knownDivergent = 0;
  let knownRecentDivergent = 0;
  return {
    onFinding(finding) {
      if (finding.verdict !== 'divergent' || !baseline.has(finding.key, finding.reason)) return;
      if (finding.population === 'recent') knownRecentDivergent++;
      else knownDivergent++;
    },
    matches: () => ({ file: baseline.file, knownDivergent, knownRecentDivergent }),
  };
}

/** Systematic differences, concluded over the sample (not --recent, which may judge its keys twice). */
export interface SystematicSink extends RunSink {
  readonly tally: SystematicTally;
}

export function systematicSink(): SystematicSink {
  const tally = new SystematicTally();
  return {
    tally,
    onFinding(finding) {
      if (finding.population === undefined) tally.add(finding);
    },
  };
}
