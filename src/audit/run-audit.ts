import type { CacheReader } from '../cache/types.js';
import type { FamilyRule } from '../core/rule.js';
import type { SourceFailure } from '../core/gate.js';
import { ownsKey } from '../core/shard.js';
import { Tally } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import type { SourceLoader } from '../sources/types.js';
import { globMatches, type KeyBatchOptions } from './key-ref.js';
import { AuditRun } from './audit-run.js';
import { recentBatches } from './recent-batches.js';
import type { AuditLog } from './log.js';
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
  const run = new AuditRun(inputs, options);
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
    await Promise.all(draws.map((draw) => run.judgeAll(draw.rule, draw.batches, sampled, undefined, draw.settled?.bind(draw))));
  } else {
    for (const draw of draws) {
      if (run.isStopped()) break;
      await run.judgeAll(draw.rule, draw.batches, sampled, undefined, draw.settled?.bind(draw));
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

