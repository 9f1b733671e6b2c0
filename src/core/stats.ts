import * as hdr from 'hdr-histogram-js';
import type { SamplingReport } from './sampling-plan.js';
import { REASONS, REASONS_BY_VERDICT, type Judgement, type Reason } from './verdict.js';

/** The counters of the report contract, for one family or for the whole run. */
export interface Counters {
  sampled: number;
  judged: number;
  match: number;
  withinTtl: number;
  divergent: number;
  error: number;
  skipped: number;
  unmatched: number;
  consistency: number | null;
  /**
   * One-sided 95% lower bound of consistency for this sample size (Wilson score): zero failures in
   * n keys supports only about 1 - 2.7/n, which users must see before believing "five nines".
   */
  consistencyLowerBound: number | null;
  strictConsistency: number | null;
  nines: number | null;
  byReason: Record<Reason, number>;
  staleAgeMs: { p50: number | null; p99: number | null; max: number | null };
  /**
   * The largest TTL that would have kept every observed stale window within the budget, from the
   * stale keys whose write and change times could be estimated; null when there were none.
   */
  ttlAdvice: { maxTtlMs: number; basedOnKeys: number } | null;
  /**
   * The stale-age histogram itself (HDR, `encodeIntoCompressedBase64`), so that `merge` can combine
   * sharded reports into exact quantiles: quantiles of parts cannot be averaged. Always set by
   * Tally; optional for counters built by hand and reports written before it existed.
   */
  staleAgeHistogram?: string;
}

export interface FamilyCounters extends Counters {
  name: string;
  /** How the family's keys were drawn (`--sampling`); absent in reports written before it existed. */
  sampling?: SamplingReport;
}

// Ten years in ms: stale ages beyond that are clamped rather than resizing the histogram forever.
const HIGHEST_TRACKABLE_MS = 10 * 365 * 24 * 3600 * 1000;
const SIGNIFICANT_DIGITS = 3;

function newStaleAgeHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_MS,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
    bitBucketSize: 'packed',
  });
}

/**
 * Streaming counters plus a stale-age histogram. Memory is fixed by the histogram's precision
 * (3 significant digits), never by the number of keys.
 */
export class Tally {
  private readonly counts = { match: 0, withinTtl: 0, divergent: 0, error: 0, skipped: 0 };
  private readonly reasons = new Map<Reason, number>();
  private readonly staleAges = newStaleAgeHistogram();
  /**
   * The exact largest stale age. The histogram's own max is exact only for values recorded in
   * it: a decoded histogram knows just the top of its highest bucket, so a merged report would
   * print a max no key had.
   */
  private staleMax: number | null = null;
  private ttlAdvice: { maxTtlMs: number; basedOnKeys: number } | null = null;
  unmatched = 0;

  add(judgement: Judgement): void {
    switch (judgement.verdict) {
      case 'match':
        this.counts.match++;
        break;
      case 'within-ttl':
        this.counts.withinTtl++;
        break;
      default:
        this.counts[judgement.verdict]++;
    }
    if (judgement.reason !== undefined) this.reasons.set(judgement.reason, (this.reasons.get(judgement.reason) ?? 0) + 1);
    if (judgement.staleAgeMs !== undefined) {
      const age = Math.min(HIGHEST_TRACKABLE_MS, Math.max(0, Math.round(judgement.staleAgeMs)));
      this.staleAges.recordValue(age);
      this.staleMax = Math.max(this.staleMax ?? 0, age);
    }
    if (judgement.ttlAdviceMs !== undefined) this.adviseTtl(judgement.ttlAdviceMs, 1);
  }

  private adviseTtl(maxTtlMs: number, keys: number): void {
    this.ttlAdvice =
      this.ttlAdvice === null
        ? { maxTtlMs, basedOnKeys: keys }
        : { maxTtlMs: Math.min(this.ttlAdvice.maxTtlMs, maxTtlMs), basedOnKeys: this.ttlAdvice.basedOnKeys + keys };
  }

  /** Folds another tally in (per-family tallies into the run's total, shards into one report). */
  merge(other: Tally): void {
    for (const k of Object.keys(this.counts) as (keyof Tally['counts'])[]) this.counts[k] += other.counts[k];
    for (const [reason, n] of other.reasons) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
    this.staleAges.add(other.staleAges);
    if (other.staleMax !== null) this.staleMax = Math.max(this.staleMax ?? 0, other.staleMax);
    this.unmatched += other.unmatched;
    if (other.ttlAdvice !== null) this.adviseTtl(other.ttlAdvice.maxTtlMs, other.ttlAdvice.basedOnKeys);
  }

  /**
   * The two figures consistency is computed from, (match + within-ttl) and judged, without the
   * histogram encoding `counters()` does: cheap enough to read between every batch.
   */
  consistencyCounts(): { consistent: number; judged: number } {
    const { match, withinTtl, divergent } = this.counts;
    return { consistent: match + withinTtl, judged: match + withinTtl + divergent };
  }

  counters(): Counters {
    const { match, withinTtl, divergent, error, skipped } = this.counts;
    const judged = match + withinTtl + divergent;
    const consistency = judged === 0 ? null : (match + withinTtl) / judged;
    const strictConsistency = judged === 0 ? null : match / judged;
    const byReason = Object.fromEntries(REASONS.map((r) => [r, this.reasons.get(r) ?? 0])) as Record<Reason, number>;
    const max = this.staleAges.totalCount > 0 ? (this.staleMax ?? this.staleAges.maxValue) : null;
    return {
      sampled: judged + error + skipped,
      judged,
      match,
      withinTtl,
      divergent,
      error,
      skipped,
      unmatched: this.unmatched,
      consistency,
      consistencyLowerBound: wilsonLowerBound(match + withinTtl, judged),
      strictConsistency,
      nines: toNines(consistency),
      byReason,
      // A percentile is the top of its histogram bucket, which can exceed the exact max: cap it.
      staleAgeMs: {
        p50: max === null ? null : Math.min(this.staleAges.getValueAtPercentile(50), max),
        p99: max === null ? null : Math.min(this.staleAges.getValueAtPercentile(99), max),
        max,
      },
      ttlAdvice: this.ttlAdvice,
      staleAgeHistogram: hdr.encodeIntoCompressedBase64(this.staleAges),
    };
  }

  /**
   * The tally a report's counters describe, so sharded reports merge exactly (`shadowcheck
   * merge`): counts, reasons, unmatched, TTL advice, and the stale-age histogram with its exact
   * max. Derived figures (judged, ratios, bounds, quantiles) are recomputed, not trusted. Throws
   * a TypeError naming the first figure that does not fit; the caller adds which file it was.
   */
  static fromCounters(counters: Counters): Tally {
    const tally = new Tally();
    const count = (name: string, value: unknown): number => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(`${name} is ${JSON.stringify(value) ?? 'missing'}, expected a whole number >= 0`);
      }
      return value;
    };
    tally.counts.match = count('match', counters.match);
    tally.counts.withinTtl = count('withinTtl', counters.withinTtl);
    tally.counts.divergent = count('divergent', counters.divergent);
    tally.counts.error = count('error', counters.error);
    tally.counts.skipped = count('skipped', counters.skipped);
    tally.unmatched = count('unmatched', counters.unmatched);
    const { match, withinTtl, divergent, error, skipped } = tally.counts;
    if (counters.judged !== match + withinTtl + divergent || counters.sampled !== counters.judged + error + skipped) {
      throw new TypeError(`sampled ${counters.sampled} and judged ${counters.judged} do not add up from the verdict counts`);
    }

    const byReason: unknown = counters.byReason;
    if (typeof byReason !== 'object' || byReason === null) throw new TypeError('byReason is missing');
    for (const [reason, n] of Object.entries(byReason)) {
      if (!(REASONS as readonly string[]).includes(reason)) throw new TypeError(`byReason has an unknown reason "${reason}"`);
      const keys = count(`byReason.${reason}`, n);
      if (keys > 0) tally.reasons.set(reason as Reason, keys);
    }
    // Every non-match verdict carries exactly one reason, so each verdict's reasons add up to it.
    const verdictCounts = { 'within-ttl': withinTtl, divergent, error, skipped } as const;
    for (const [verdict, expected] of Object.entries(verdictCounts)) {
      const reasons = REASONS_BY_VERDICT[verdict as keyof typeof verdictCounts] as readonly Reason[];
      const sum = reasons.reduce((acc, r) => acc + (tally.reasons.get(r) ?? 0), 0);
      if (sum !== expected) throw new TypeError(`byReason counts ${sum} ${verdict} keys, the counters ${expected}`);
    }

    const advice: unknown = counters.ttlAdvice;
    if (advice !== null && advice !== undefined) {
      const { maxTtlMs, basedOnKeys } = advice as { maxTtlMs?: unknown; basedOnKeys?: unknown };
      if (typeof maxTtlMs !== 'number' || !Number.isFinite(maxTtlMs)) throw new TypeError('ttlAdvice.maxTtlMs is not a number');
      tally.ttlAdvice = { maxTtlMs, basedOnKeys: count('ttlAdvice.basedOnKeys', basedOnKeys) };
    }

    const max: unknown = counters.staleAgeMs?.max ?? null;
    if (counters.staleAgeHistogram === undefined) {
      // Without the histogram only an empty one can be rebuilt exactly.
      if (max !== null) throw new TypeError('staleAgeHistogram is missing, so the stale-age quantiles cannot be merged exactly');
      return tally;
    }
    let decoded: hdr.Histogram;
    try {
      decoded = hdr.decodeFromCompressedBase64(counters.staleAgeHistogram, 'packed', false);
    } catch (error) {
      throw new TypeError(`staleAgeHistogram is not an encoded HDR histogram (${error instanceof Error ? error.message : String(error)})`);
    }
    if (
      !(decoded instanceof hdr.JsHistogram) ||
      decoded.lowestDiscernibleValue !== 1 ||
      decoded.highestTrackableValue !== HIGHEST_TRACKABLE_MS ||
      decoded.numberOfSignificantValueDigits !== SIGNIFICANT_DIGITS
    ) {
      throw new TypeError('staleAgeHistogram has another range or precision than this version of shadowcheck records');
    }
    if ((decoded.totalCount > 0) !== (max !== null)) {
      throw new TypeError(`staleAgeMs.max is ${String(max)} but the histogram holds ${decoded.totalCount} stale ages`);
    }
    if (max !== null) {
      // The exact max must sit in the histogram's highest non-empty bucket (whose top is maxValue).
      if (typeof max !== 'number' || !Number.isSafeInteger(max) || decoded.highestEquivalentValue(max) !== decoded.maxValue) {
        throw new TypeError(`staleAgeMs.max ${String(max)} is not in the histogram's highest bucket`);
      }
      tally.staleMax = max;
    }
    tally.staleAges.add(decoded);
    return tally;
  }
}

/** Consistency as "nines" (-log10(1 - ratio)), the way Polaris reports it; null when undefined or perfect. */
export function toNines(ratio: number | null): number | null {
  if (ratio === null || ratio >= 1) return null;
  // max(0, …) folds -0 (from a ratio of exactly 0) into 0.
  return Math.max(0, Math.round(-Math.log10(1 - ratio) * 1000) / 1000);
}

/** z for a one-sided 95% bound. */
const Z_95_ONE_SIDED = 1.6448536269514722;

/**
 * Wilson score lower bound of a proportion, one-sided 95%. Unlike the normal approximation it
 * stays meaningful at 0 or n successes: n of n gives n / (n + z²), about 1 - 2.7/n.
 */
export function wilsonLowerBound(successes: number, n: number): number | null {
  if (n === 0) return null;
  // Exactly 0 at no successes: centre and margin are then equal, and their float difference is not.
  if (successes <= 0) return 0;
  const { centre, margin, scale } = wilsonTerms(successes, n);
  return Math.max(0, (centre - margin) / scale);
}

/**
 * Wilson score upper bound of a proportion, one-sided 95%: the mirror of `wilsonLowerBound`
 * (0 of n gives z² / (n + z²)). `--until-confident` stops a family as failing once it is below the
 * threshold.
 */
export function wilsonUpperBound(successes: number, n: number): number | null {
  if (n === 0) return null;
  if (successes >= n) return 1;
  const { centre, margin, scale } = wilsonTerms(successes, n);
  return Math.min(1, (centre + margin) / scale);
}

function wilsonTerms(successes: number, n: number): { centre: number; margin: number; scale: number } {
  const z2 = Z_95_ONE_SIDED * Z_95_ONE_SIDED;
  const p = successes / n;
  const centre = p + z2 / (2 * n);
  const margin = Z_95_ONE_SIDED * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { centre, margin, scale: 1 + z2 / n };
}
