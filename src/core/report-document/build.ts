import type { SourceFailure } from '../gate.js';
import type { GateResult, RunCoverage, RunSummary } from '../run-summary.js';
import type { SamplingReport } from '../sampling-plan.js';
import type { ShardMeta } from '../shard.js';
import type { Counters, FamilyCounters } from '../stats.js';
import type { RunWarning } from '../warning.js';
import type { FindingJson } from './finding.js';

/**
 * The JSON report document (ARCHITECTURE.md "Report contract"). Its key order is the order
 * `reportDocument` builds it in, which is the order of the text: part of the contract.
 * `Findings` is the findings list, or what stands for it while the reporter streams it.
 */
export interface ReportDocument<Findings = readonly FindingJson[]> {
  tool: 'shadowcheck';
  version: string;
  startedAt: string;
  durationMs: number;
  target: Record<string, string>;
  warnings?: RunWarning[];
  shard?: ShardMeta;
  summary: Counters;
  families: FamilyCounters[];
  recent?: RecentJson;
  findings: Findings;
  findingsOmitted?: number;
  sourceFailures?: SourceFailure[];
  gate: GateResult;
  coverage?: RunCoverage;
  replicaLagMs?: Record<string, number>;
  incomplete?: true;
  abortReason?: string;
}

interface RecentJson {
  withinMs: number;
  summary: Counters;
  families: FamilyCounters[];
}

/**
 * The document for a concluded run and the non-match findings it kept; `findingsOmitted` (those
 * over the limit) is written only when some were left out.
 */
export function reportDocument<Findings = readonly FindingJson[]>(run: RunSummary, findings: Findings, findingsOmitted: number): ReportDocument<Findings> {
  return {
    tool: 'shadowcheck',
    version: run.version,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    target: { ...run.target },
    ...warningsFields(run),
    ...shardFields(run),
    ...populationFields(run),
    findings,
    ...(findingsOmitted > 0 ? { findingsOmitted } : {}),
    ...outcomeFields(run),
  };
}

/** `summary`, `families` and `recent`: the run's figures, in both the document and ndjson's summary line. */
export function populationFields(run: RunSummary): Pick<ReportDocument, 'summary' | 'families' | 'recent'> {
  return { summary: countersToJson(run.summary), families: run.families.map(familyToJson), ...recentFields(run) };
}

/**
 * What the run came to, after its findings: `sourceFailures`, `gate`, then `coverage`,
 * `replicaLagMs`, `incomplete` and `abortReason` when they apply. In the document and ndjson's summary line.
 */
export function outcomeFields(run: RunSummary): Pick<ReportDocument, 'sourceFailures' | 'gate' | 'coverage' | 'replicaLagMs' | 'incomplete' | 'abortReason'> {
  return {
    ...sourceFailuresFields(run),
    gate: gateToJson(run.gate),
    ...(run.coverage === undefined ? {} : { coverage: run.coverage }),
    ...(run.replicaLagMs === undefined ? {} : { replicaLagMs: run.replicaLagMs }),
    ...incompleteFields(run),
  };
}

/**
 * The counters of the report contract, rebuilt in the contract's key order. Rebuilding (instead
 * of passing the object through) keeps the order stable whoever produced the counters (a Tally, or
 * `merge` reading sharded reports) and keeps stray fields out of the document.
 */
function countersToJson(c: Counters): Counters {
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

function familyToJson(f: FamilyCounters): FamilyCounters {
  return { name: f.name, ...countersToJson(f), ...(f.sampling === undefined ? {} : { sampling: samplingToJson(f.sampling) }) };
}

/** `families[].sampling`: how the family's keys were drawn (method, cost, bias), in contract order. */
function samplingToJson(s: SamplingReport): SamplingReport {
  return {
    method: s.method,
    examined: s.examined,
    redisCalls: s.redisCalls,
    ...(s.why === undefined ? {} : { why: s.why }),
    ...(s.bias === undefined ? {} : { bias: s.bias }),
    ...(s.notCached === undefined ? {} : { notCached: s.notCached }),
    ...(s.short === undefined ? {} : { short: { asked: s.short.asked, drawn: s.short.drawn, because: s.short.because } }),
    ...(s.stoppedEarly === undefined ? {} : { stoppedEarly: { afterKeys: s.stoppedEarly.afterKeys, because: s.stoppedEarly.because } }),
  };
}

function gateToJson(g: GateResult): GateResult {
  const out: GateResult = { passed: g.passed, failures: [...g.failures] };
  if (g.baseline !== undefined) out.baseline = { ...g.baseline };
  return out;
}

/** `incomplete: true` and `abortReason` appear only when the run stopped early. */
function incompleteFields(run: RunSummary): Pick<ReportDocument, 'incomplete' | 'abortReason'> {
  if (!run.incomplete) return {};
  return run.abortReason === undefined ? { incomplete: true } : { incomplete: true, abortReason: run.abortReason };
}

/** `recent` (the --recent population) appears only when the run sampled recent writes. */
function recentFields(run: RunSummary): Pick<ReportDocument, 'recent'> {
  if (run.recent === undefined) return {};
  return { recent: { withinMs: run.recent.withinMs, summary: countersToJson(run.recent.summary), families: run.recent.families.map(familyToJson) } };
}

/** `shard` appears only when the run judged one shard of the keyspace (--shard i/N). */
function shardFields(run: RunSummary): Pick<ReportDocument, 'shard'> {
  if (run.shard === undefined) return {};
  const { index, count, rulesDigest, minConsistency } = run.shard;
  return { shard: { index, count, rulesDigest, minConsistency: { ...minConsistency } } };
}

/**
 * `warnings` (rules problems and systematic differences) appears only when there are some; it is
 * placed first among the run's figures, since a reader must see it before trusting them.
 */
export function warningsFields(run: RunSummary): Pick<ReportDocument, 'warnings'> {
  if (run.warnings === undefined || run.warnings.length === 0) return {};
  return { warnings: run.warnings.map(warningToJson) };
}

function warningToJson(w: RunWarning): RunWarning {
  return { kind: w.kind, family: w.family, ...(w.field === undefined ? {} : { field: w.field }), message: w.message };
}

/**
 * `sourceFailures` (each `{family, batches, keys, message}`) appears only when a whole batch's
 * source query failed, whether or not the gate counted it: `merge` reads it back from each shard.
 * The message is the SourceQueryError's, the same text every key of the batch carries as `detail`.
 */
function sourceFailuresFields(run: RunSummary): Pick<ReportDocument, 'sourceFailures'> {
  if (run.sourceFailures === undefined || run.sourceFailures.length === 0) return {};
  return { sourceFailures: run.sourceFailures.map((f) => ({ family: f.family, batches: f.batches, keys: f.keys, message: f.message })) };
}
