import * as hdr from 'hdr-histogram-js';
import { REASONS, type Judgement, type Reason } from './verdict.js';

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
}

export interface FamilyCounters extends Counters {
  name: string;
}

// Ten years in ms: stale ages beyond that are clamped rather than resizing the histogram forever.
const HIGHEST_TRACKABLE_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Streaming counters plus a stale-age histogram. Memory is fixed by the histogram's precision
 * (3 significant digits), never by the number of keys.
 */
export class Tally {
  private readonly counts = { match: 0, withinTtl: 0, divergent: 0, error: 0, skipped: 0 };
  private readonly reasons = new Map<Reason, number>();
  private readonly staleAges = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_MS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
    bitBucketSize: 'packed',
  });
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
      this.staleAges.recordValue(Math.min(HIGHEST_TRACKABLE_MS, Math.max(0, Math.round(judgement.staleAgeMs))));
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
    this.unmatched += other.unmatched;
    if (other.ttlAdvice !== null) this.adviseTtl(other.ttlAdvice.maxTtlMs, other.ttlAdvice.basedOnKeys);
  }

  counters(): Counters {
    const { match, withinTtl, divergent, error, skipped } = this.counts;
    const judged = match + withinTtl + divergent;
    const consistency = judged === 0 ? null : (match + withinTtl) / judged;
    const strictConsistency = judged === 0 ? null : match / judged;
    const byReason = Object.fromEntries(REASONS.map((r) => [r, this.reasons.get(r) ?? 0])) as Record<Reason, number>;
    const hasAges = this.staleAges.totalCount > 0;
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
        p50: hasAges ? Math.min(this.staleAges.getValueAtPercentile(50), this.staleAges.maxValue) : null,
        p99: hasAges ? Math.min(this.staleAges.getValueAtPercentile(99), this.staleAges.maxValue) : null,
        max: hasAges ? this.staleAges.maxValue : null,
      },
      ttlAdvice: this.ttlAdvice,
    };
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
  const z2 = Z_95_ONE_SIDED * Z_95_ONE_SIDED;
  const p = successes / n;
  const centre = p + z2 / (2 * n);
  const margin = Z_95_ONE_SIDED * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}
