import pLimit from 'p-limit';
import type { CacheReader } from '../cache/types.js';
import { CachedFieldSample } from '../core/cached-fields.js';
import type { FamilyRule } from '../core/rule.js';
import { addSourceFailure, type SourceFailure } from '../core/gate.js';
import { ownsKey } from '../core/shard.js';
import { Tally } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import { ConnectionError } from '../errors.js';
import type { SourceLoader } from '../sources/types.js';
import { ConfirmationQueue } from './confirmations.js';
import { confirmSuspects, judgeBatch, type BatchContext, type Suspect } from './judge-batch.js';
import { globMatches, type KeyBatchOptions, type KeyRef } from './key-batches.js';
import { recentBatches } from './recent-batches.js';
import { BatchSizer, BusyGate, RedisLatencyGate, ReplicaLagWatch, type LagProbe } from './governor.js';
import type { AuditLog } from './log.js';
import { createThrottle, type Throttle } from './throttle.js';
import type { SamplingMode, SamplingReport } from '../core/sampling-plan.js';
import type { KeyspaceCoverage } from '../core/run-summary.js';
import { buildDraws, withUntilConfident } from './sampling/draws.js';
import { keyspaceCoverage, UnmatchedCount } from './sampling/coverage.js';

export interface AuditOptions extends KeyBatchOptions {
  /** Keys per second across the run, SCAN included; undefined for no cap. */
  rate?: number;
  /** Batches in flight at once (each: one cache pipeline and one source query). */
  concurrency: number;
  confirmDelayMs: number;
  maxValueBytes: number;
  /**
   * Also judge the keys of rows changed within this window (families with `table` and
   * `updatedAt`), as a separate population: stale entries cluster on recently changed rows.
   */
  recentMs?: number;
  /** The time one source query should take; batches shrink below --batch to keep to it. */
  targetQueryMs?: number;
  /** Pause while a replica read (Redis or a source) is further behind than this, ms. */
  maxReplicaLagMs?: number;
  /** `--sampling`: how each family's keys are drawn; `auto` (the default) lets the planner choose. */
  sampling?: SamplingMode;
  /**
   * `--until-confident`: stop judging a family once its consistency's 95% bounds decide this
   * threshold (the family's `minConsistency` first); the run's `--min-consistency` when given.
   */
  untilConfident?: { minConsistency?: number };
}

export interface AuditInputs {
  /** The families to audit, in rules-file order. */
  families: readonly FamilyRule[];
  /** Every family of the rules file, so a key another family owns is not counted as unmatched. */
  allFamilies: readonly FamilyRule[];
  cache: CacheReader;
  /** Loaders by source name. */
  loaders: ReadonlyMap<string, SourceLoader>;
  /** Receives every judged or skipped key as it is decided. */
  onFinding(finding: Finding): void | Promise<void>;
  /** Aborting stops the audit after the batches in flight; the outcome is then incomplete. */
  signal?: AbortSignal;
  log: AuditLog;
}

/** Counters of one population of keys: per family, and in total. */
export interface Population {
  total: Tally;
  families: Map<string, Tally>;
}

export interface AuditOutcome extends Population {
  /** Largest replication lag seen per replica read (redis, or a source's name), ms. */
  replicaLagMs?: Record<string, number>;
  /** Keys of recently changed rows (--recent), judged apart from the sample. */
  recent?: Population & { withinMs: number };
  incomplete: boolean;
  abortReason?: string;
  /** Compared fields that none of a family's first cached values holds (core/cached-fields.ts), in family order. */
  warnings: RunWarning[];
  /** Batches whose source query failed as a whole, per family: the gate fails on them. */
  sourceFailures: SourceFailure[];
  /** How each sampled family's keys were drawn, by family name. */
  sampling: Map<string, SamplingReport>;
  /** Keys no family covers: exact after a full SCAN pass, else estimated from a RANDOMKEY sample. */
  keyspace: KeyspaceCoverage;
}

const DEFAULT_TARGET_QUERY_MS = 100;

function newPopulation(families: readonly FamilyRule[]): Population {
  return { total: new Tally(), families: new Map(families.map((f) => [f.name, new Tally()])) };
}

/**
 * Streams every family through sample → read → load → classify → confirm → report, with at most
 * `concurrency` batches in flight, so memory is bounded by batch size × concurrency, and a batch's
 * values by BATCH_VALUE_BYTES (the sizer shrinks batches of large values).
 * A lost connection ends the audit early: what was judged is kept and the outcome is incomplete.
 */
export async function runAudit(inputs: AuditInputs, options: AuditOptions): Promise<AuditOutcome> {
  const run = new Run(inputs, options);
  await run.watchSources();
  const sampled = newPopulation(inputs.families);
  const { shard } = options;
  // On a Cluster, the reader itself keeps to the shard's masters; elsewhere keys are kept by slot.
  const owns = shard === undefined ? undefined : (inputs.cache.restrictToShard?.(shard) ?? ((raw: Buffer) => ownsKey(shard, raw)));
  const unmatched = new UnmatchedCount();
  const planned = await buildDraws(
    inputs.families,
    {
      cache: inputs.cache,
      loaders: inputs.loaders,
      allFamilies: inputs.allFamilies,
      throttle: run.throttle,
      ...(owns === undefined ? {} : { owns }),
      isStopped: () => run.isStopped(),
      // Counted in total, and on the first family (rules-file order) whose glob holds the key, so
      // a per-family figure says which pattern leaves keys unclaimed.
      onUnmatched: (key) => {
        unmatched.add(key);
        sampled.total.unmatched++;
        const owner = inputs.allFamilies.find((f) => globMatches(f.pattern.glob, key));
        const tally = owner === undefined ? undefined : sampled.families.get(owner.name);
        if (tally !== undefined) tally.unmatched++;
      },
    },
    { sampling: options.sampling ?? 'auto', sample: options.sample, seed: options.seed, batch: options.batch, scanCount: options.scanCount },
  );
  const draws = planned.draws.map((draw) => withUntilConfident(draw, sampled.families.get(draw.rule.name) as Tally, options.untilConfident));
  if (options.sample === 'all') {
    // One pass streams every family's keys: the families are judged together, sharing the slots.
    await Promise.all(draws.map((draw) => run.judgeAll(draw.rule, draw.batches, sampled)));
  } else {
    for (const draw of draws) {
      if (run.isStopped()) break;
      await run.judgeAll(draw.rule, draw.batches, sampled);
    }
  }
  const sampling = new Map(draws.map((draw) => [draw.rule.name, draw.report()]));
  const keyspace = keyspaceCoverage(planned, unmatched);
  // An estimate replaces the count when no full pass listed the keyspace.
  if (!keyspace.exact) sampled.total.unmatched = keyspace.unmatched;

  let recent: AuditOutcome['recent'];
  if (options.recentMs !== undefined) {
    const eligible = inputs.families.filter((f) => f.table !== undefined && f.updatedAt !== undefined);
    recent = { ...newPopulation(eligible), withinMs: options.recentMs };
    for (const rule of eligible) {
      if (run.isStopped()) break;
      await run.judgeAll(rule, recentBatches(rule, run.loaderFor(rule), options, options.recentMs, owns), recent, 'recent');
    }
  }
  await run.settle();
  return { ...run.outcome(sampled, recent), sampling, keyspace };
}

/** The state one audit run shares across families and populations. */
class Run {
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
  async judgeAll(rule: FamilyRule, batches: AsyncIterable<KeyRef[]>, population: Population, tag?: 'recent'): Promise<void> {
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
