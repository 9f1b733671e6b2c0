import type { SourceFailure } from './gate.js';
import type { ShardMeta } from './shard.js';
import type { Counters, FamilyCounters } from './stats.js';
import type { RunWarning } from './warning.js';

export interface GateResult {
  passed: boolean;
  failures: string[];
  /** With --baseline: divergences the baseline already listed (same key and reason) and new ones. */
  baseline?: { file: string; knownDivergent: number; newDivergent: number };
}

/**
 * What a Cluster scan covered. The same shape as cache/types.ts CacheCoverage, declared here
 * because the pure core may not import the cache layer (eslint no-restricted-imports).
 */
export interface ScanCoverage {
  readFrom: 'master' | 'replica';
  scans: number;
  nodes: { address: string; role: 'master' | 'replica'; slots: string; complete: boolean }[];
  complete: boolean;
  missing?: string;
}

/**
 * The keys of the keyspace no family covers (`unmatched`), in the report's `coverage`: exact after
 * a full SCAN pass, else estimated from DBSIZE and a RANDOMKEY sample; `basis` says which.
 */
export interface KeyspaceCoverage {
  unmatched: number;
  exact: boolean;
  basis: string;
  /** The commonest prefixes of those keys (core/uncovered-prefixes.ts), most keys first. */
  uncoveredPrefixes: { prefix: string; keys: number }[];
}

/** The report's `coverage`: the Cluster scan's nodes and slots when on a Cluster, and the keyspace's coverage. */
export type RunCoverage = (ScanCoverage & Partial<KeyspaceCoverage>) | KeyspaceCoverage;

/**
 * The concluded run: what every end-of-run sink (reporters, metrics) is given, and nothing more
 * (STYLE.md: don't hand reporters the world). Built once, by core/conclude.ts.
 */
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
  /** Cluster: which nodes and slot ranges were scanned; and how many keys no family covers. */
  coverage?: RunCoverage;
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
