import type { SourceFailure } from '../core/gate.js';
import type { ShardMeta } from '../core/shard.js';
import type { CacheCoverage } from '../cache/types.js';
import type { Counters, FamilyCounters } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';

export interface GateResult {
  passed: boolean;
  failures: string[];
  /** With --baseline: divergences the baseline already listed (same key and reason) and new ones. */
  baseline?: { file: string; knownDivergent: number; newDivergent: number };
}

/** Everything an end-of-run reporter needs; nothing more (STYLE.md: don't hand reporters the world). */
export interface RunSummary {
  version: string;
  startedAt: string;
  durationMs: number;
  /** Redacted target description, e.g. { redis: 'redis://:***@host:6379/0' }. */
  target: Record<string, string>;
  summary: Counters;
  families: FamilyCounters[];
  gate: GateResult;
  /** With --recent: the keys of rows changed within `withinMs`, counted apart from the sample. */
  recent?: { withinMs: number; summary: Counters; families: FamilyCounters[] };
  /** Cluster: which nodes and slot ranges were scanned. */
  coverage?: CacheCoverage;
  /** Largest replication lag seen per replica read (redis, or a source's name), ms. */
  replicaLagMs?: Record<string, number>;
  /** True when the audit stopped early (lost connection, signal): the figures cover what was judged. */
  incomplete: boolean;
  /** Why it stopped early, when incomplete. */
  abortReason?: string;
  /** Rules problems and systematic differences, shown first in every format; absent when none. */
  warnings?: RunWarning[];
  /**
   * Batches whose source query failed as a whole (not a timeout), per family, whatever the gate
   * made of them: a shard gated with `--fail-on none` still reports them, so that `merge` fails
   * the merged gate as the unsharded run would have. Absent or empty when none failed.
   */
  sourceFailures?: readonly SourceFailure[];
  /** With --shard: which part of the keyspace this run judged, and what `merge` needs to combine the parts. */
  shard?: ShardMeta;
}

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
