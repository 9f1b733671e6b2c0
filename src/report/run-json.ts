import { sourceFailureMessage, type SourceFailure } from '../core/gate.js';
import type { ShardMeta } from '../core/shard.js';
import type { Counters, FamilyCounters } from '../core/stats.js';
import type { RunWarning } from '../core/warning.js';
import type { GateResult, RunSummary } from './types.js';

/**
 * The counters of the report contract, rebuilt in the contract's key order. Rebuilding (instead
 * of passing the object through) keeps the order stable whoever produced the counters (a Tally, or
 * `merge` reading sharded reports) and keeps stray fields out of the document.
 */
export function countersToJson(c: Counters): Counters {
  return {
    sampled: c.sampled,
    judged: c.judged,
    match: c.match,
    withinTtl: c.withinTtl,
    divergent: c.divergent,
    error: c.error,
    skipped: c.skipped,
    unmatched: c.unmatched,
    consistency: c.consistency,
    consistencyLowerBound: c.consistencyLowerBound,
    strictConsistency: c.strictConsistency,
    nines: c.nines,
    byReason: { ...c.byReason },
    staleAgeMs: { p50: c.staleAgeMs.p50, p99: c.staleAgeMs.p99, max: c.staleAgeMs.max },
    ttlAdvice: c.ttlAdvice === null ? null : { maxTtlMs: c.ttlAdvice.maxTtlMs, basedOnKeys: c.ttlAdvice.basedOnKeys },
    // Additive: what `merge` needs for exact quantiles across sharded reports.
    ...(c.staleAgeHistogram === undefined ? {} : { staleAgeHistogram: c.staleAgeHistogram }),
  };
}

export function familyToJson(f: FamilyCounters): FamilyCounters {
  return { name: f.name, ...countersToJson(f) };
}

export function gateToJson(g: GateResult): GateResult {
  const out: GateResult = { passed: g.passed, failures: [...g.failures] };
  if (g.baseline !== undefined) out.baseline = { ...g.baseline };
  return out;
}

/** `incomplete: true` and `abortReason` appear only when the run stopped early. */
export function incompleteFields(run: RunSummary): { incomplete?: true; abortReason?: string } {
  if (!run.incomplete) return {};
  return run.abortReason === undefined ? { incomplete: true } : { incomplete: true, abortReason: run.abortReason };
}

/** `recent` (the --recent population) appears only when the run sampled recent writes. */
export function recentFields(run: RunSummary): { recent?: { withinMs: number; summary: Counters; families: FamilyCounters[] } } {
  if (run.recent === undefined) return {};
  return { recent: { withinMs: run.recent.withinMs, summary: countersToJson(run.recent.summary), families: run.recent.families.map(familyToJson) } };
}

/** `shard` appears only when the run judged one shard of the keyspace (--shard i/N). */
export function shardFields(run: RunSummary): { shard?: ShardMeta } {
  if (run.shard === undefined) return {};
  const { index, count, rulesDigest, minConsistency } = run.shard;
  return { shard: { index, count, rulesDigest, minConsistency: { ...minConsistency } } };
}

/**
 * `warnings` (rules problems and systematic differences) appears only when there are some; it is
 * placed first among the run's figures, since a reader must see it before trusting them.
 */
export function warningsFields(run: RunSummary): { warnings?: RunWarning[] } {
  if (run.warnings === undefined || run.warnings.length === 0) return {};
  return { warnings: run.warnings.map(warningToJson) };
}

export function warningToJson(w: RunWarning): RunWarning {
  return { kind: w.kind, family: w.family, ...(w.field === undefined ? {} : { field: w.field }), message: w.message };
}

/**
 * `sourceFailures` (each `{family, batches, keys, message}`) appears only when a whole batch's
 * source query failed, whether or not the gate counted it: `merge` reads it back from each shard.
 * The message is the SourceQueryError's, the same text every key of the batch carries as `detail`.
 */
export function sourceFailuresFields(run: RunSummary): { sourceFailures?: SourceFailure[] } {
  if (run.sourceFailures === undefined || run.sourceFailures.length === 0) return {};
  return { sourceFailures: run.sourceFailures.map((f) => ({ family: f.family, batches: f.batches, keys: f.keys, message: f.message })) };
}

/**
 * The source failures the gate's failures do not already state, each as the gate words it: the
 * gate names every one it counted, so only those it was not asked to count (`--fail-on none`)
 * remain. Text formats print these beside the gate, so a failed batch is seen once, never twice.
 */
export function sourceFailuresBesideGate(run: RunSummary): string[] {
  const stated = new Set(run.gate.failures);
  return (run.sourceFailures ?? []).map(sourceFailureMessage).filter((message) => !stated.has(message));
}
