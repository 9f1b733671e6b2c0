import { Gauge, Histogram, Registry } from 'prom-client';
import type { Counters } from '../core/stats.js';
import { REASONS_BY_VERDICT, VERDICTS, type Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import type { RunSummary } from '../report/types.js';
import { staleAgeSeconds, versionLag } from './observations.js';

/**
 * Stale-age buckets, in seconds: roughly exponential from 1 s to 1 day, on the durations people
 * write as `ttl:`/`maxStaleness:` (1m, 5m, 1h, ...) so "stale longer than the budget" reads off a bucket.
 */
export const STALE_AGE_BUCKETS_SECONDS: readonly number[] = [
  1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400,
];

/**
 * Version-lag buckets, in versions. The 0 bucket holds keys whose versions agree, so the share of
 * keys behind is `1 - bucket{le="0"} / count`.
 */
export const VERSION_LAG_BUCKETS: readonly number[] = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** `quantile` label values of the stale-age gauges: p50, p99 and max (the 1-quantile). */
const STALE_QUANTILES = [
  ['0.5', 'p50'],
  ['0.99', 'p99'],
  ['1', 'max'],
] as const satisfies readonly (readonly [string, keyof Counters['staleAgeMs']])[];

/**
 * Every series shadowcheck pushes, in a registry of its own (never prom-client's global one, and no
 * process metrics: the Pushgateway would keep a dead process's memory figures forever).
 *
 * Label values come only from family names, verdicts, reasons, quantiles and the tool version;
 * never from key names or URLs. Families are a handful per rules file and verdict/reason is a fixed
 * set of 18, so cardinality is bounded by the rules file, not the keyspace.
 */
export class MetricSet {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private readonly observedFamilies = new Set<string>();

  private readonly keys = new Gauge({
    name: 'shadowcheck_keys',
    help: 'Keys judged or skipped in the last run, by family, verdict and reason (reason is empty for match).',
    labelNames: ['family', 'verdict', 'reason'] as const,
    registers: this.registers,
  });
  private readonly unmatched = new Gauge({
    name: 'shadowcheck_unmatched_keys',
    help: 'Keys scanned in the last run that matched no family pattern (never loaded).',
    registers: this.registers,
  });
  private readonly consistency = new Gauge({
    name: 'shadowcheck_consistency_ratio',
    help: '(match + within-ttl) / judged per family in the last run; NaN when nothing was judged.',
    labelNames: ['family'] as const,
    registers: this.registers,
  });
  private readonly strictConsistency = new Gauge({
    name: 'shadowcheck_strict_consistency_ratio',
    help: 'match / judged per family in the last run; NaN when nothing was judged.',
    labelNames: ['family'] as const,
    registers: this.registers,
  });
  private readonly runConsistency = new Gauge({
    name: 'shadowcheck_run_consistency_ratio',
    help: '(match + within-ttl) / judged over all families in the last run; NaN when nothing was judged.',
    registers: this.registers,
  });
  private readonly runStrictConsistency = new Gauge({
    name: 'shadowcheck_run_strict_consistency_ratio',
    help: 'match / judged over all families in the last run; NaN when nothing was judged.',
    registers: this.registers,
  });
  private readonly staleAge = new Gauge({
    name: 'shadowcheck_stale_age_seconds',
    help: 'How long stale keys with a known change time had been stale, per family: p50, p99 and max (quantile 1); NaN when none.',
    labelNames: ['family', 'quantile'] as const,
    registers: this.registers,
  });
  private readonly runStaleAge = new Gauge({
    name: 'shadowcheck_run_stale_age_seconds',
    help: 'How long stale keys with a known change time had been stale, over all families: p50, p99 and max (quantile 1); NaN when none.',
    labelNames: ['quantile'] as const,
    registers: this.registers,
  });
  private readonly staleAgeHistogram = new Histogram({
    name: 'shadowcheck_stale_age_histogram_seconds',
    help: 'Stale age of each stale key with a known change time in the last run, per family.',
    labelNames: ['family'] as const,
    buckets: [...STALE_AGE_BUCKETS_SECONDS],
    registers: this.registers,
  });
  private readonly versionLag = new Histogram({
    name: 'shadowcheck_version_lag',
    help: 'Source version minus cache version for each key whose versions are both numeric (0 when they agree), per family.',
    labelNames: ['family'] as const,
    buckets: [...VERSION_LAG_BUCKETS],
    registers: this.registers,
  });
  private readonly lastRun = new Gauge({
    name: 'shadowcheck_last_run_timestamp_seconds',
    help: 'When the last run ended, in seconds since the Unix epoch.',
    registers: this.registers,
  });
  private readonly duration = new Gauge({
    name: 'shadowcheck_run_duration_seconds',
    help: 'How long the last run took.',
    registers: this.registers,
  });
  private readonly incomplete = new Gauge({
    name: 'shadowcheck_run_incomplete',
    help: '1 when the last run stopped early (lost connection, signal) and its figures cover only what was judged, else 0.',
    registers: this.registers,
  });
  private readonly gatePassed = new Gauge({
    name: 'shadowcheck_gate_passed',
    help: "1 when the last run passed its gate (the audit's exit status would be 0 on that account), else 0.",
    registers: this.registers,
  });
  private readonly warnings = new Gauge({
    name: 'shadowcheck_warnings',
    help: 'Warnings of the last run per family and kind (rules: the rules disagree with the source or the cached values; systematic: a systematic difference).',
    labelNames: ['family', 'kind'] as const,
    registers: this.registers,
  });
  private readonly systematic = new Gauge({
    name: 'shadowcheck_systematic_difference',
    help: "1 for each field on which most of a family's differing keys differed the same way in the last run (a rules or normalization problem, not stale data).",
    labelNames: ['family', 'field'] as const,
    registers: this.registers,
  });
  private readonly buildInfo = new Gauge({
    name: 'shadowcheck_build_info',
    help: 'Always 1; the version label is the shadowcheck version that ran.',
    labelNames: ['version'] as const,
    registers: this.registers,
  });

  /** Records one judged or skipped key's stale age and version lag. */
  observe(finding: Finding): void {
    const family = finding.family;
    if (!this.observedFamilies.has(family)) {
      this.observedFamilies.add(family);
      this.zeroHistograms(family);
    }
    const age = staleAgeSeconds(finding.staleAgeMs);
    if (age !== undefined) this.staleAgeHistogram.observe({ family }, age);
    const lag = versionLag(finding.cacheVersion, finding.sourceVersion);
    if (lag !== undefined) this.versionLag.observe({ family }, lag);
  }

  /** Sets every gauge from the run's summary, replacing what a previous call set. */
  setRun(run: RunSummary): void {
    for (const gauge of [this.keys, this.consistency, this.strictConsistency, this.staleAge, this.runStaleAge, this.warnings, this.systematic, this.buildInfo]) {
      gauge.reset();
    }
    for (const family of run.families) {
      const labels = { family: family.name };
      this.setKeys(family.name, family);
      this.consistency.set(labels, ratio(family.consistency));
      this.strictConsistency.set(labels, ratio(family.strictConsistency));
      for (const [quantile, field] of STALE_QUANTILES) {
        this.staleAge.set({ ...labels, quantile }, seconds(family.staleAgeMs[field]));
      }
      // A family with no stale key still shows its histograms, with count 0 rather than no series.
      if (!this.observedFamilies.has(family.name)) this.zeroHistograms(family.name);
      for (const kind of WARNING_KINDS) this.warnings.set({ ...labels, kind }, 0);
    }
    // Field names come from the rules file or the payloads' own field names, never from key names
    // or values; at most a few per family (MAX_WARNINGS_PER_FAMILY).
    for (const w of run.warnings ?? []) {
      this.warnings.inc({ family: w.family, kind: w.kind });
      if (w.kind === 'systematic') this.systematic.set({ family: w.family, field: w.field ?? '' }, 1);
    }
    const total = run.summary;
    this.unmatched.set(total.unmatched);
    this.runConsistency.set(ratio(total.consistency));
    this.runStrictConsistency.set(ratio(total.strictConsistency));
    for (const [quantile, field] of STALE_QUANTILES) this.runStaleAge.set({ quantile }, seconds(total.staleAgeMs[field]));
    const startedMs = Date.parse(run.startedAt);
    this.lastRun.set(Number.isFinite(startedMs) ? (startedMs + run.durationMs) / 1000 : Date.now() / 1000);
    this.duration.set(run.durationMs / 1000);
    this.incomplete.set(run.incomplete ? 1 : 0);
    this.gatePassed.set(run.gate.passed ? 1 : 0);
    this.buildInfo.set({ version: run.version }, 1);
  }

  /**
   * Every verdict/reason pair, zeros included: a fixed set of 18 series per family, so a series never
   * disappears between runs (no churn in Prometheus, and "no divergent keys" reads as 0 rather
   * than as no data).
   */
  private setKeys(family: string, c: Counters): void {
    // Every non-match verdict carries a reason (SEMANTICS.md), so its reasons add up to its count.
    this.keys.set({ family, verdict: 'match', reason: '' }, c.match);
    for (const verdict of VERDICTS) {
      for (const reason of REASONS_BY_VERDICT[verdict]) this.keys.set({ family, verdict, reason }, c.byReason[reason] ?? 0);
    }
  }

  private zeroHistograms(family: string): void {
    this.staleAgeHistogram.zero({ family });
    this.versionLag.zero({ family });
  }
}

const WARNING_KINDS: readonly RunWarning['kind'][] = ['rules', 'systematic'];

/** A ratio the report gives as null (nothing judged) is NaN, as Prometheus summaries do for no data. */
function ratio(value: number | null): number {
  return value ?? Number.NaN;
}

function seconds(ms: number | null): number {
  return ms === null ? Number.NaN : ms / 1000;
}
