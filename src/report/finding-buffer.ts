import type { Verdict } from '../core/verdict.js';

export type NonMatchVerdict = Exclude<Verdict, 'match'>;

/** Most urgent first: the order the table lists findings in, and the order they are kept in. */
export const SEVERITY_ORDER: readonly NonMatchVerdict[] = ['divergent', 'error', 'within-ttl', 'skipped'];

interface Entry<T> {
  seq: number;
  item: T;
}

/**
 * Holds at most `max` non-match findings for an end-of-run report; the rest are only counted.
 * When full, a more severe finding evicts the newest of the least severe ones, so a few divergent
 * keys found late in a run are never crowded out by thousands of within-ttl keys found earlier.
 * Within one verdict the earliest are kept. Memory is bounded by `max`, never by the keyspace.
 */
export class FindingBuffer<T> {
  private readonly max: number;
  private readonly buckets: Entry<T>[][] = SEVERITY_ORDER.map(() => []);
  private size = 0;
  private seq = 0;
  /** Non-match findings offered. */
  seen = 0;
  /** Offered but not kept (dropped on arrival or evicted later). */
  omitted = 0;

  constructor(max: number) {
    // A nonsensical bound keeps nothing rather than everything: memory must stay bounded.
    this.max = Number.isNaN(max) || max < 0 ? 0 : Math.floor(max);
  }

  add(verdict: NonMatchVerdict, item: T): void {
    this.seen++;
    const rank = SEVERITY_ORDER.indexOf(verdict);
    const bucket = this.buckets[rank];
    if (bucket === undefined) throw new Error(`not a non-match verdict: ${String(verdict)}`);
    const entry = { seq: this.seq++, item };
    if (this.size < this.max) {
      bucket.push(entry);
      this.size++;
      return;
    }
    this.omitted++;
    for (let r = this.buckets.length - 1; r > rank; r--) {
      const worse = this.buckets[r];
      if (worse !== undefined && worse.length > 0) {
        worse.pop();
        bucket.push(entry);
        return;
      }
    }
  }

  /** Kept findings in the order they were offered. */
  inArrivalOrder(): T[] {
    return this.buckets
      .flat()
      .sort((a, b) => a.seq - b.seq)
      .map((e) => e.item);
  }

  /** Kept findings, most severe verdict first, then in the order they were offered. */
  bySeverity(): T[] {
    return this.buckets.flat().map((e) => e.item);
  }
}
