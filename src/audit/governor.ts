import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditLog } from './log.js';
import { replicaLagAllowanceMs } from '../core/observe.js';

/** Smallest batch the governor shrinks to for query time: below this, per-batch overhead dominates. */
const MIN_BATCH = 10;
/** Weight of the newest query in the decaying average. */
const ALPHA = 0.3;
/**
 * Value bytes one batch should hold at most. A batch's values stay in memory from the cache read
 * until its source rows are loaded and it is judged, so memory is about --concurrency times this,
 * whatever the values' sizes (900 kB values at --batch 500 would otherwise hold 450 MB per batch).
 */
export const BATCH_VALUE_BYTES = 16 * 1024 * 1024;

/**
 * Sizes batches so that one source query takes about `targetQueryMs` and one batch holds about
 * `batchBytes` of values, never above the user's --batch.
 *  - Time: a decaying average of the time per key, measured on each query. Slow queries shrink the
 *    batches (and so the load and lock times on the source); fast ones grow them back.
 *  - Bytes: the value bytes per key, measured on each cache read. It rises at once to a larger
 *    measure and decays slowly, so one batch of large values shrinks the next ones straight away.
 *    Until a family's first read is measured, every value is taken to be --max-value-bytes.
 */
export class BatchSizer {
  private msPerKey: number | undefined;
  private bytesPerKey: number | undefined;

  constructor(
    private readonly targetQueryMs: number,
    private readonly maxBatch: number,
    private readonly maxValueBytes: number,
    private readonly batchBytes = BATCH_VALUE_BYTES,
  ) {}

  size(): number {
    const byTime =
      this.msPerKey === undefined || this.msPerKey <= 0
        ? this.maxBatch
        : Math.max(Math.min(MIN_BATCH, this.maxBatch), Math.min(this.maxBatch, Math.floor(this.targetQueryMs / this.msPerKey)));
    const bytesPerKey = this.bytesPerKey ?? this.maxValueBytes;
    const byBytes = bytesPerKey <= 0 ? this.maxBatch : Math.max(1, Math.floor(this.batchBytes / bytesPerKey));
    return Math.min(byTime, byBytes);
  }

  /** One source query: how long it took for how many keys. */
  record(durationMs: number, keys: number): void {
    if (keys <= 0) return;
    const sample = durationMs / keys;
    this.msPerKey = this.msPerKey === undefined ? sample : ALPHA * sample + (1 - ALPHA) * this.msPerKey;
  }

  /** One cache read: the value bytes it brought into memory for how many keys. */
  recordBytes(bytes: number, keys: number): void {
    if (keys <= 0) return;
    const sample = bytes / keys;
    this.bytesPerKey = this.bytesPerKey === undefined || sample > this.bytesPerKey ? sample : ALPHA * sample + (1 - ALPHA) * this.bytesPerKey;
  }
}

/** How busy a source is: other sessions' active queries, excluding the audit's own. */
export type ActivityProbe = () => Promise<number>;

/**
 * Pauses the audit while a source is busier than when it started: more than 20% (and at least
 * two) more active queries than the baseline measured before the first batch. It says so on the
 * log, once per pause, and checks at most every `intervalMs`.
 */
export class BusyGate {
  private threshold: number | undefined;
  private checkedAt = 0;

  constructor(
    private readonly source: string,
    private readonly probe: ActivityProbe,
    private readonly log: AuditLog,
    private readonly intervalMs = 2000,
  ) {}

  async start(): Promise<void> {
    const baseline = await this.probe();
    this.threshold = Math.max(Math.ceil(baseline * 1.2), baseline + 2);
  }

  /** Resolves when the source is not busy (or `stopped()` says the audit ends). */
  async waitUntilCalm(stopped: () => boolean): Promise<void> {
    if (this.threshold === undefined || Date.now() - this.checkedAt < this.intervalMs) return;
    this.checkedAt = Date.now();
    let active = await this.probe();
    if (active <= this.threshold) return;
    this.log.warn({ source: this.source, active, threshold: this.threshold }, 'source busy: pausing the audit until it calms down');
    while (active > this.threshold && !stopped()) {
      await sleep(this.intervalMs);
      active = await this.probe();
    }
    this.log.warn({ source: this.source, active }, 'source calm again: resuming');
    this.checkedAt = Date.now();
  }
}

/** Reads one replica's lag, ms; undefined when it is not a replica. */
export type LagProbe = () => Promise<number | undefined>;

/**
 * Watches the replication lag of the replicas the audit reads (Redis and each source): the current
 * lag widens the time tolerance of every observation, a lag over `maxLagMs` pauses the audit (a
 * replica that far behind would only produce false verdicts), and the largest lag seen is reported.
 */
export class ReplicaLagWatch {
  private readonly current = new Map<string, number>();
  private readonly largest = new Map<string, number>();
  private checkedAt = 0;

  constructor(
    private readonly probes: ReadonlyMap<string, LagProbe>,
    private readonly log: AuditLog,
    private readonly maxLagMs: number | undefined,
    private readonly intervalMs = 2000,
  ) {}

  /** Measures every replica once; sides that are not replicas are dropped from the watch. */
  async start(): Promise<void> {
    await this.measure();
    for (const [name, lag] of this.current) this.log.info({ replica: name, lagMs: lag }, 'reading a replica: its lag widens the time tolerance');
  }

  /** The lag to allow for when the cache and this source are read, ms. */
  lagFor(source: string): number {
    return replicaLagAllowanceMs(this.current.get('redis'), this.current.get(source));
  }

  /** Largest lag seen per replica (redis, or the source's name), for the report. */
  observed(): Record<string, number> {
    return Object.fromEntries(this.largest);
  }

  /** Re-measures when due; while a lag is over the limit, waits (or until `stopped()`). */
  async waitUntilCaughtUp(stopped: () => boolean): Promise<void> {
    if (this.current.size === 0) return;
    // The last figures count at once (a replica behind at the start pauses the first batch);
    // only the re-measuring is rate-limited.
    if (Date.now() - this.checkedAt >= this.intervalMs) await this.measure();
    let behind = this.behind();
    if (behind === undefined) return;
    this.log.warn({ replica: behind[0], lagMs: behind[1], maxLagMs: this.maxLagMs }, 'replica too far behind: pausing the audit');
    while (behind !== undefined && !stopped()) {
      await sleep(this.intervalMs);
      await this.measure();
      behind = this.behind();
    }
    this.log.warn({}, 'replicas caught up: resuming');
  }

  private behind(): [string, number] | undefined {
    if (this.maxLagMs === undefined) return undefined;
    for (const entry of this.current) if (entry[1] > this.maxLagMs) return entry;
    return undefined;
  }

  private async measure(): Promise<void> {
    this.checkedAt = Date.now();
    for (const [name, probe] of this.probes) {
      const lag = await probe();
      if (lag === undefined) continue;
      this.current.set(name, lag);
      this.largest.set(name, Math.max(lag, this.largest.get(name) ?? 0));
    }
  }
}

/**
 * Backs off when Redis answers much more slowly than at the start of the run: a sign that the
 * cache is under load, which an auditor must not add to. The baseline is the average of the first
 * reads; a decaying average four times above it (and at least 20 ms above) pauses for a while.
 */
export class RedisLatencyGate {
  private baseline: number | undefined;
  private warmup: number[] = [];
  private average: number | undefined;

  constructor(
    private readonly log: AuditLog,
    private readonly pauseMs = 1000,
  ) {}

  record(durationMs: number): void {
    if (this.baseline === undefined) {
      this.warmup.push(durationMs);
      if (this.warmup.length >= 5) {
        this.baseline = this.warmup.reduce((a, b) => a + b, 0) / this.warmup.length;
        this.average = this.baseline;
        this.warmup = [];
      }
      return;
    }
    this.average = ALPHA * durationMs + (1 - ALPHA) * (this.average ?? durationMs);
  }

  slow(): boolean {
    return this.baseline !== undefined && this.average !== undefined && this.average > Math.max(4 * this.baseline, this.baseline + 20);
  }

  /** Pauses once while Redis is slow; the next reads tell whether it recovered. */
  async waitIfSlow(stopped: () => boolean): Promise<void> {
    if (!this.slow() || stopped()) return;
    this.log.warn({ averageMs: Math.round(this.average ?? 0), baselineMs: Math.round(this.baseline ?? 0) }, 'Redis answers slowly: pausing the audit');
    await sleep(this.pauseMs);
    // Forget part of the slow history so a recovered Redis is noticed on the next reads.
    if (this.average !== undefined && this.baseline !== undefined) this.average = (this.average + this.baseline) / 2;
  }
}
