import pLimit from 'p-limit';
import { CachedFieldSample } from '../core/cached-fields.js';
import type { FamilyRule } from '../core/rule.js';
import { addSourceFailure, type SourceFailure } from '../core/gate.js';
import type { Tally } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import { ConnectionError } from '../errors.js';
import type { SourceLoader } from '../sources/types.js';
import { ConfirmationQueue } from './confirmations.js';
import { confirmSuspects, judgeBatch, type BatchContext, type Suspect } from './judge-batch.js';
import type { KeyRef } from './key-ref.js';
import { BatchSizer, BusyGate, RedisLatencyGate, ReplicaLagWatch, type LagProbe } from './governor.js';
import type { AuditInputs, AuditOptions, AuditOutcome, Population } from './run-audit.js';
import { createThrottle, type Throttle } from './throttle.js';

const DEFAULT_TARGET_QUERY_MS = 100;

/** The state one audit run shares across families and populations. */
export class AuditRun {
  readonly throttle: Throttle;
  /** Batch slots: how many cache reads + source queries may run at once. */
  private readonly slots;
  private stop: { reason: string; error?: unknown } | undefined;
  /** Per source: pauses the audit while the source is busier than when it started. */
  private readonly busyGates = new Map<string, BusyGate>();
  private lag: ReplicaLagWatch | undefined;
  /** Confirmation queues still draining, one per family judged. */
  private readonly confirming: Promise<void>[] = [];
  private readonly latency: RedisLatencyGate;
  private readonly warnings: RunWarning[] = [];
  private readonly sourceFailures: SourceFailure[] = [];

  constructor(
    private readonly inputs: AuditInputs,
    private readonly options: AuditOptions,
  ) {
    this.throttle = createThrottle(options.rate);
    this.latency = new RedisLatencyGate(inputs.log);
    this.slots = pLimit(options.concurrency);
  }

  isStopped(): boolean {
    return this.stop !== undefined || this.inputs.signal?.aborted === true;
  }

  /** Measures each source's baseline activity; a source that cannot tell is simply not watched. */
  async watchSources(): Promise<void> {
    const probes = new Map<string, LagProbe>();
    if (this.inputs.cache.replicaLagMs !== undefined) probes.set('redis', this.inputs.cache.replicaLagMs.bind(this.inputs.cache));
    for (const source of new Set(this.inputs.families.map((f) => f.source))) {
      const loader = this.inputs.loaders.get(source);
      if (loader?.replicaLagMs !== undefined) probes.set(source, loader.replicaLagMs.bind(loader));
    }
    const lag = new ReplicaLagWatch(probes, this.inputs.log, this.options.maxReplicaLagMs);
    try {
      await lag.start();
      this.lag = lag;
    } catch (error) {
      this.inputs.log.warn({ error: String(error) }, 'cannot read replication lag: time comparisons use clockSkew alone');
    }
    for (const source of new Set(this.inputs.families.map((f) => f.source))) {
      const loader = this.inputs.loaders.get(source);
      if (loader?.activity === undefined) continue;
      const gate = new BusyGate(source, loader.activity.bind(loader), this.inputs.log);
      try {
        await gate.start();
        this.busyGates.set(source, gate);
      } catch (error) {
        this.inputs.log.warn({ source, error: String(error) }, 'cannot read how busy the source is: the audit will not pause for it');
      }
    }
  }

  loaderFor(rule: FamilyRule): SourceLoader {
    const loader = this.inputs.loaders.get(rule.source);
    if (loader === undefined) throw new Error(`no loader for source "${rule.source}"`);
    return loader;
  }

  /** Judges every batch of one family into `population`, at most `concurrency` at a time. */
  async judgeAll(rule: FamilyRule, batches: AsyncIterable<KeyRef[]>, population: Population, tag?: 'recent', settled?: (keys: number) => void): Promise<void> {
    const { options } = this;
    const tally = population.families.get(rule.name) as Tally;
    const sizer = new BatchSizer(options.targetQueryMs ?? DEFAULT_TARGET_QUERY_MS, options.batch, options.maxValueBytes);
    const busy = this.busyGates.get(rule.source);
    // The sample's first decoded values tell whether the cache holds the compared fields: the same
    // check `rules validate --connect` makes by scanning a few keys, here without reading any twice.
    const cachedFields = tag === undefined ? new CachedFieldSample(rule) : undefined;
    const ctx: BatchContext = {
      cache: this.inputs.cache,
      loader: this.loaderFor(rule),
      throttle: this.throttle,
      maxValueBytes: options.maxValueBytes,
      confirmDelayMs: options.confirmDelayMs,
      log: this.inputs.log,
      onQuery: (durationMs, keys) => sizer.record(durationMs, keys),
      replicaLagMs: () => this.lag?.lagFor(rule.source) ?? 0,
      onCacheRead: (durationMs) => this.latency.record(durationMs),
      onValues: (bytes, keys) => sizer.recordBytes(bytes, keys),
      onBatchFailed: (keys, message) => addSourceFailure(this.sourceFailures, rule.name, keys, message),
      ...(cachedFields === undefined || cachedFields.full
        ? {}
        : {
            onObserved: (observations) => {
              for (const obs of observations) if (!cachedFields.full) cachedFields.offer(obs.cache);
            },
          }),
    };
    this.inputs.log.info({ family: rule.name, population: tag ?? 'sample' }, 'auditing family');
    const inflight = new Set<Promise<void>>();
    const track = (task: Promise<void>) => {
      const tracked: Promise<void> = task.catch((error: unknown) => this.fail(error)).finally(() => inflight.delete(tracked));
      inflight.add(tracked);
    };
    let batchesInFlight = 0;

    const record = async (findings: Finding[]) => {
      for (const finding of findings) {
        if (tag !== undefined) finding.population = tag;
        tally.add(finding);
        population.total.add(finding);
        // Awaited only when the receiver is writing asynchronously: an await per key allocates a
        // promise and a continuation for every finding, and was the largest share of the garbage.
        const writing = this.inputs.onFinding(finding);
        if (writing !== undefined) await writing;
      }
    };
    // Confirmations wait out their delay outside the batch slots and are re-read together, so a
    // cache with stale keys in every batch neither stalls the batches nor doubles the queries.
    const confirmations = new ConfirmationQueue<Suspect>(
      options.confirmDelayMs,
      async (suspects) => {
        // Re-read in batches of the sizer's size: a re-read holds the values as a first read does.
        for (let i = 0; i < suspects.length; ) {
          const group = suspects.slice(i, i + sizer.size());
          i += group.length;
          await this.slots(() => confirmSuspects(rule, group, ctx).then(record));
        }
      },
      (error) => this.fail(error),
    );
    const judge = async (refs: KeyRef[]) => {
      batchesInFlight++;
      try {
        // A batch still waiting for a slot when the run stops is dropped: only those in flight finish.
        // A failure stops the run before the slot passes on, so no waiting batch starts after it.
        const outcome = await this.slots(async () => {
          if (this.isStopped()) return undefined;
          try {
            return await judgeBatch(rule, refs, ctx);
          } catch (error) {
            this.fail(error);
            throw error;
          }
        });
        if (outcome === undefined) return;
        await record(outcome.findings);
        if (outcome.suspects.length > 0) confirmations.add(outcome.suspects);
      } finally {
        batchesInFlight--;
        settled?.(refs.length);
      }
    };
    // Memory stays bounded: a few batches beyond the running ones, and a cap on suspects held.
    const full = () => batchesInFlight >= options.concurrency * 2 || confirmations.size >= options.batch * options.concurrency * 4;

    try {
      for await (const scanned of batches) {
        // Batches leave the scan at --batch; the sizer cuts them to the query-time and value-bytes
        // targets, asked again for each batch so that what the last reads measured applies at once.
        for (let i = 0; i < scanned.length; ) {
          while (full() && inflight.size > 0) await Promise.race(inflight);
          await busy?.waitUntilCalm(() => this.isStopped());
          await this.lag?.waitUntilCaughtUp(() => this.isStopped());
          await this.latency.waitIfSlow(() => this.isStopped());
          if (this.isStopped()) break;
          const refs = scanned.slice(i, i + sizer.size());
          i += refs.length;
          track(judge(refs));
        }
        if (this.isStopped()) break;
      }
    } catch (error) {
      this.fail(error);
    }
    // Batches still running may add suspects. The last suspects' delay is left to run while the
    // next family starts; the run waits for every queue before it reports.
    while (inflight.size > 0) await Promise.all(inflight);
    this.confirming.push(confirmations.idle());
    if (cachedFields !== undefined) this.warnings.push(...cachedFields.warnings());
  }

  /** Resolves when every family's confirmation re-reads are done. */
  async settle(): Promise<void> {
    await Promise.all(this.confirming);
  }

  outcome(sampled: Population, recent: AuditOutcome['recent']): Omit<AuditOutcome, 'sampling' | 'keyspace'> {
    // A lost connection ends the run with what was judged; anything else (a bug, an unwritable
    // report) is thrown to the caller.
    if (this.stop !== undefined && !(this.stop.error instanceof ConnectionError)) throw this.stop.error;
    const outcome: Omit<AuditOutcome, 'sampling' | 'keyspace'> = { ...sampled, incomplete: this.isStopped(), warnings: this.warnings, sourceFailures: this.sourceFailures };
    const lags = this.lag?.observed() ?? {};
    if (Object.keys(lags).length > 0) outcome.replicaLagMs = lags;
    if (recent !== undefined) outcome.recent = recent;
    if (this.stop !== undefined) outcome.abortReason = this.stop.reason;
    else if (this.inputs.signal?.aborted === true) outcome.abortReason = 'interrupted';
    return outcome;
  }

  private fail(error: unknown): void {
    this.stop ??= { reason: error instanceof ConnectionError ? error.message : String(error), error };
  }

}
