import { UsageError } from '../errors.js';
import { gateInputOf, type BaselineMatches, type RunOutcome } from './conclude.js';
import type { GateInput, SourceFailure } from './gate.js';
import type { ShardMeta } from './shard.js';
import type { Population, ReportFinding, ShardReport } from './report-document/index.js';
import { Tally, type Counters } from './stats.js';
import type { RunWarning } from './warning.js';
import { mergeCoverage, withMergedSampling } from './merge-coverage.js';
import type { KeyspaceCoverage } from './run-summary.js';

/**
 * `shadowcheck merge`: N reports of `audit --shard i/N --format json` back into the one report an
 * unsharded run would have written. Counters are rebuilt as tallies (histograms included) and
 * merged, so every derived figure (ratios, lower bounds, quantiles, TTL advice) is recomputed
 * exactly rather than averaged. Pure: the CLI reads the files and evaluates the gate.
 */

export interface MergedReport extends Population {
  version: string;
  startedAt: string;
  durationMs: number;
  target: Record<string, string>;
  recent?: Population & { withinMs: number };
  /** Every shard's findings, shard 0's first, each in its report's order. */
  findings: ReportFinding[];
  /** Findings the shard reports had already left out (their counters still count them). */
  findingsOmitted: number;
  incomplete: boolean;
  abortReason?: string;
  /** The families' own minConsistency thresholds, from the shards' rules. */
  minConsistency: Record<string, number>;
  shards: { count: number; merged: number[]; missing: number[] };
  /** Things the user should know that do not stop the merge (different versions, missing shards...). */
  warnings: string[];
  /** The union of the shards' run warnings (each once), shown first in the merged report. */
  runWarnings: RunWarning[];
  /** The shards' failed source batches, those of one family with the same message summed (mergeSourceFailures). */
  sourceFailures: SourceFailure[];
  /** The shards' keyspace coverage summed (merge-coverage.ts). */
  keyspace?: KeyspaceCoverage;
}

/**
 * Merges the reports of one sharded run. Refuses (UsageError) reports that cannot belong together:
 * different shard counts, the same shard twice, different rules, different families or --recent
 * windows. Missing shards are a warning and make the merged report incomplete; so do incomplete
 * shards. Different tool versions or targets are warnings.
 */
export function mergeReports(reports: readonly ShardReport[], mergerVersion: string): MergedReport {
  const first = reports[0];
  if (first === undefined) throw new UsageError('merge needs at least one report');
  const warnings: string[] = [];
  const shardOf = (r: ShardReport): ShardMeta => r.shard ?? { index: 0, count: 1, rulesDigest: '', minConsistency: {} };
  const label = (r: ShardReport): string => `${r.file} (shard ${shardOf(r).index}/${shardOf(r).count})`;

  const count = shardOf(first).count;
  const byIndex = new Map<number, ShardReport>();
  for (const r of reports) {
    const shard = shardOf(r);
    if (shard.count !== count) {
      throw new UsageError(`${label(r)} and ${label(first)} split the keyspace into different numbers of shards`, {
        hint: 'merge the reports of one sharded run: every shard ran with the same --shard i/N count',
      });
    }
    const twin = byIndex.get(shard.index);
    if (twin !== undefined) {
      throw new UsageError(`${r.file} and ${twin.file} are both shard ${shard.index}/${count}`, {
        hint: count === 1 ? 'an unsharded report covers the whole keyspace: it has nothing to merge with' : 'give each shard\'s report once',
      });
    }
    byIndex.set(shard.index, r);
    if (shard.rulesDigest !== shardOf(first).rulesDigest) {
      throw new UsageError(`${label(r)} was judged by other rules than ${label(first)} (rules ${shard.rulesDigest}, not ${shardOf(first).rulesDigest})`, {
        hint: 'every shard of a run must use the same rules file',
      });
    }
    const names = r.families.map((f) => f.name);
    const firstNames = first.families.map((f) => f.name);
    if (names.join('\u0000') !== firstNames.join('\u0000')) {
      throw new UsageError(`${label(r)} audited families ${list(names)}, ${label(first)} audited ${list(firstNames)}`, {
        hint: 'every shard of a run must audit the same families (the same --family flags)',
      });
    }
    if (r.recent?.withinMs !== first.recent?.withinMs) {
      const describe = (x: ShardReport): string => (x.recent === undefined ? 'no --recent' : `--recent ${x.recent.withinMs} ms`);
      throw new UsageError(`${label(r)} ran with ${describe(r)}, ${label(first)} with ${describe(first)}`, {
        hint: 'every shard of a run must use the same --recent window',
      });
    }
  }
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i) as ShardReport);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));

  const versions = new Set(ordered.map((r) => r.version));
  if (versions.size > 1) {
    warnings.push(`the reports were written by different shadowcheck versions (${[...versions].join(', ')}); their figures may not compare`);
  }
  const target: Record<string, string> = {};
  for (const key of new Set(ordered.flatMap((r) => Object.keys(r.target)))) {
    const values = [...new Set(ordered.map((r) => r.target[key]).filter((v): v is string => v !== undefined))];
    if (values.length > 1) warnings.push(`the shards audited different targets (${key}: ${values.join(', ')})`);
    target[key] = values.join(', ');
  }

  const reasons: string[] = [];
  for (const r of ordered) {
    if (r.incomplete) reasons.push(`shard ${shardOf(r).index}/${count} incomplete: ${r.abortReason ?? 'stopped early'}`);
  }
  if (missing.length > 0) {
    const names = missing.map((i) => `${i}/${count}`).join(', ');
    reasons.push(`no report for shard ${names}`);
    warnings.push(`no report for shard ${names}: the merged report covers ${ordered.length} of ${count} shards and is marked incomplete`);
  }
  const findingsOmitted = ordered.reduce((n, r) => n + r.findingsOmitted, 0);
  for (const r of ordered) {
    if (r.findingsOmitted > 0) {
      warnings.push(`${label(r)} left out ${r.findingsOmitted} findings (over its limit); the counters include them, the findings list does not`);
    }
  }

  const sharded = ordered.map(shardOf);
  const merged: MergedReport = {
    version: versions.size === 1 ? first.version : mergerVersion,
    startedAt: ordered.map((r) => r.startedAt).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)),
    durationMs: Math.max(...ordered.map((r) => r.durationMs)),
    target,
    ...mergePopulations(ordered, (r) => r, ''),
    findings: ordered.flatMap((r) => r.findings),
    findingsOmitted,
    incomplete: reasons.length > 0,
    minConsistency: { ...sharded[0]?.minConsistency },
    shards: { count, merged: sharded.map((s) => s.index), missing },
    warnings,
    runWarnings: unionOfWarnings(ordered.map((r) => r.runWarnings)),
    sourceFailures: mergeSourceFailures(ordered.map((r) => r.sourceFailures)),
  };
  merged.families = withMergedSampling(merged.families, ordered.map((r) => r.families));
  const keyspace = mergeCoverage(ordered.map((r) => r.keyspace));
  if (keyspace !== undefined) merged.keyspace = keyspace;
  if (first.recent !== undefined) {
    merged.recent = { withinMs: first.recent.withinMs, ...mergePopulations(ordered, (r) => r.recent as Population, 'recent.') };
  }
  if (reasons.length > 0) merged.abortReason = reasons.join('; ');
  return merged;
}

/** A merged report as the outcome of one run, for concludeRun (core/conclude.ts). */
export function mergedOutcome(merged: MergedReport): RunOutcome {
  return {
    kind: 'merge',
    version: merged.version,
    startedAt: merged.startedAt,
    durationMs: merged.durationMs,
    target: merged.target,
    summary: merged.summary,
    families: merged.families,
    minConsistency: merged.minConsistency,
    ...(merged.recent === undefined ? {} : { recent: merged.recent }),
    incomplete: merged.incomplete,
    ...(merged.abortReason === undefined ? {} : { abortReason: merged.abortReason }),
    warnings: merged.runWarnings,
    sourceFailures: merged.sourceFailures,
    ...(merged.keyspace === undefined ? {} : { coverage: merged.keyspace }),
  };
}

/** The gate's input for a merged report; `baseline` counts the divergences a --baseline already lists. */
export function mergedGateInput(merged: MergedReport, baseline?: BaselineMatches): GateInput {
  return gateInputOf(mergedOutcome(merged), baseline);
}

/** Sums one population (the sample, or --recent) over the shards: per family, and in total. */
function mergePopulations(reports: readonly ShardReport[], population: (r: ShardReport) => Population, where: string): Population {
  const total = new Tally();
  const families = new Map<string, Tally>();
  for (const r of reports) {
    const p = population(r);
    total.merge(fromCounters(p.summary, `${r.file}: ${where}summary`));
    for (const f of p.families) {
      const tally = families.get(f.name) ?? new Tally();
      tally.merge(fromCounters(f, `${r.file}: ${where}family "${f.name}"`));
      families.set(f.name, tally);
    }
  }
  return { summary: total.counters(), families: [...families].map(([name, tally]) => ({ name, ...tally.counters() })) };
}

function fromCounters(counters: Counters, where: string): Tally {
  try {
    return Tally.fromCounters(counters);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new UsageError(`${where}: ${error.message}`, {
      hint: 'merge needs reports written by `shadowcheck audit --format json` of this version or later, unedited',
    });
  }
}

/**
 * Each shard concludes its own warnings over the keys it judged; the merged report shows every
 * one of them once (a systematic difference seen by several shards says so with each one's counts).
 */
function unionOfWarnings(lists: readonly RunWarning[][]): RunWarning[] {
  const seen = new Set<string>();
  const out: RunWarning[] = [];
  for (const w of lists.flat()) {
    const id = JSON.stringify([w.kind, w.family, w.field ?? null, w.message]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(w);
  }
  return out;
}

/**
 * The shards' failed source batches as one list: failures of the same family with the same message
 * are one entry, their batches and keys summed (the shards ran the same query over parts of the
 * keyspace); a family that failed with different messages keeps one entry per message, so the gate
 * names every error. Shard order, then each report's order.
 */
export function mergeSourceFailures(lists: readonly (readonly SourceFailure[])[]): SourceFailure[] {
  const byId = new Map<string, SourceFailure>();
  for (const f of lists.flat()) {
    const id = JSON.stringify([f.family, f.message]);
    const known = byId.get(id);
    if (known === undefined) byId.set(id, { family: f.family, batches: f.batches, keys: f.keys, message: f.message });
    else {
      known.batches += f.batches;
      known.keys += f.keys;
    }
  }
  return [...byId.values()];
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.map((n) => `"${n}"`).join(', ');
}
