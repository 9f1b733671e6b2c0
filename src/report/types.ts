import type { RunSummary } from '../core/run-summary.js';
import type { Finding } from '../core/verdict.js';

// The concluded run lives in the core (core/conclude.ts builds it); reporters receive it.
export type { GateResult, RunSummary } from '../core/run-summary.js';

/**
 * Hooks are optional and awaitable so a streaming reporter (ndjson: onFinding) and an end-of-run
 * reporter (table, json: onEnd) share one interface. A reporter writes only to its own stream.
 */
export interface Reporter {
  /** Every judged or skipped key, match included, as it is decided. */
  onFinding?(finding: Finding): void | Promise<void>;
  onEnd?(run: RunSummary): void | Promise<void>;
}

export interface ReporterContext {
  out: NodeJS.WritableStream;
  /** Colour and terminal widths allowed (stdout is a TTY and NO_COLOR is unset). */
  color: boolean;
  /** Upper bound on findings kept in memory for end-of-run reports; the rest are counted only. */
  maxFindings: number;
}

export type ReporterFactory = (ctx: ReporterContext) => Reporter;
