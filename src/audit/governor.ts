import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditLog } from './log.js';

/** Smallest batch the governor shrinks to: below this, per-batch overhead dominates. */
const MIN_BATCH = 10;
/** Weight of the newest query in the decaying average. */
const ALPHA = 0.3;

/**
 * Sizes batches so that one source query takes about `targetQueryMs`: a decaying average of the
 * time per key, measured on each query, never above the user's --batch. Slow queries shrink the
 * batches (and so the load and lock times on the source); fast ones grow them back.
 */
export class BatchSizer {
  private msPerKey: number | undefined;

  constructor(
    private readonly targetQueryMs: number,
    private readonly maxBatch: number,
  ) {}

  size(): number {
    if (this.msPerKey === undefined || this.msPerKey <= 0) return this.maxBatch;
    return Math.max(Math.min(MIN_BATCH, this.maxBatch), Math.min(this.maxBatch, Math.floor(this.targetQueryMs / this.msPerKey)));
  }

  record(durationMs: number, keys: number): void {
    if (keys <= 0) return;
    const sample = durationMs / keys;
    this.msPerKey = this.msPerKey === undefined ? sample : ALPHA * sample + (1 - ALPHA) * this.msPerKey;
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
