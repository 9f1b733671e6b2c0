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
  strictConsistency: number | null;
  nines: number | null;
  byReason: Record<Reason, number>;
  staleAgeMs: { p50: number | null; p99: number | null; max: number | null };
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
  }

  /** Folds another tally in (per-family tallies into the run's total, shards into one report). */
  merge(other: Tally): void {
    for (const k of Object.keys(this.counts) as (keyof Tally['counts'])[]) this.counts[k] += other.counts[k];
    for (const [reason, n] of other.reasons) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
    this.staleAges.add(other.staleAges);
    this.unmatched += other.unmatched;
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
      strictConsistency,
      nines: toNines(consistency),
      byReason,
      staleAgeMs: {
        p50: hasAges ? this.staleAges.getValueAtPercentile(50) : null,
        p99: hasAges ? this.staleAges.getValueAtPercentile(99) : null,
        max: hasAges ? this.staleAges.maxValue : null,
      },
    };
  }
}

/** Consistency as "nines" (-log10(1 - ratio)), the way Polaris reports it; null when undefined or perfect. */
export function toNines(ratio: number | null): number | null {
  if (ratio === null || ratio >= 1) return null;
  // max(0, …) folds -0 (from a ratio of exactly 0) into 0.
  return Math.max(0, Math.round(-Math.log10(1 - ratio) * 1000) / 1000);
}
