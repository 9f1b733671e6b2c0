import type { CacheReader } from '../cache/types.js';
import type { FamilyRule } from '../core/rule.js';
import { Tally } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import { ConnectionError } from '../errors.js';
import type { SourceLoader } from '../sources/types.js';
import pLimit from 'p-limit';
import { setTimeout as sleep } from 'node:timers/promises';
import { confirmSuspects, judgeBatch, type Suspect } from './judge-batch.js';
import { keyBatches, type KeyBatchOptions, type KeyRef } from './key-batches.js';
import { createThrottle } from './throttle.js';

export interface AuditOptions extends KeyBatchOptions {
  /** Keys per second across the run, SCAN included; undefined for no cap. */
  rate?: number;
  /** Batches in flight at once (each: one cache pipeline and one source query). */
  concurrency: number;
  confirmDelayMs: number;
  maxValueBytes: number;
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
}

export interface AuditOutcome {
  total: Tally;
  families: Map<string, Tally>;
  incomplete: boolean;
  abortReason?: string;
}

/**
 * Streams every family through sample → read → load → classify → confirm → report, with at most
 * `concurrency` batches in flight, so memory is bounded by batch size × concurrency.
 * A lost connection ends the audit early: what was judged is kept and the outcome is incomplete.
 */
export async function runAudit(inputs: AuditInputs, options: AuditOptions): Promise<AuditOutcome> {
  const throttle = createThrottle(options.rate);
  const total = new Tally();
  const tallies = new Map(inputs.families.map((f) => [f.name, new Tally()]));
  let stop: { reason: string; error?: unknown } | undefined;
  const isStopped = () => stop !== undefined || inputs.signal?.aborted === true;

  // Batch slots: how many cache pipelines + source queries may run at once.
  const slots = pLimit(options.concurrency);

  for (const rule of inputs.families) {
    if (isStopped()) break;
    const tally = tallies.get(rule.name) as Tally;
    const loader = inputs.loaders.get(rule.source);
    if (loader === undefined) throw new Error(`no loader for source "${rule.source}"`);
    const ctx = { cache: inputs.cache, loader, throttle, maxValueBytes: options.maxValueBytes, confirmDelayMs: options.confirmDelayMs };
    const inflight = new Set<Promise<void>>();
    const track = (task: Promise<void>) => {
      const tracked: Promise<void> = task.catch(fail).finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      return tracked;
    };
    let batchesInFlight = 0;
    let suspectsWaiting = 0;

    const record = async (findings: Finding[]) => {
      for (const finding of findings) {
        tally.add(finding);
        total.add(finding);
        await inputs.onFinding(finding);
      }
    };
    const fail = (error: unknown) => {
      stop ??= { reason: error instanceof ConnectionError ? error.message : String(error), error };
    };
    // Confirmations wait out their delay outside the batch slots, so a cache with stale keys in
    // every batch is not slowed to one batch per delay; they take a slot only for their re-read.
    const confirm = async (suspects: Suspect[]) => {
      suspectsWaiting += suspects.length;
      try {
        await sleep(options.confirmDelayMs);
        await slots(() => confirmSuspects(rule, suspects, ctx).then(record));
      } finally {
        suspectsWaiting -= suspects.length;
      }
    };
    const judge = async (refs: KeyRef[]) => {
      batchesInFlight++;
      try {
        const outcome = await slots(() => judgeBatch(rule, refs, ctx));
        await record(outcome.findings);
        if (outcome.suspects.length > 0) track(confirm(outcome.suspects));
      } finally {
        batchesInFlight--;
      }
    };
    // Memory stays bounded: a few batches beyond the running ones, and a cap on suspects held.
    const full = () => batchesInFlight >= options.concurrency * 2 || suspectsWaiting >= options.batch * options.concurrency * 4;

    try {
      const batches = keyBatches(rule, {
        cache: inputs.cache,
        families: inputs.allFamilies,
        throttle,
        isStopped,
        onUnmatched: () => total.unmatched++,
      }, options);
      for await (const refs of batches) {
        while (full() && inflight.size > 0) await Promise.race(inflight);
        if (isStopped()) break;
        track(judge(refs));
      }
    } catch (error) {
      fail(error);
    }
    while (inflight.size > 0) await Promise.all(inflight);
  }

  if (stop !== undefined && !(stop.error instanceof ConnectionError)) throw stop.error;
  const outcome: AuditOutcome = { total, families: tallies, incomplete: isStopped() };
  if (stop !== undefined) outcome.abortReason = stop.reason;
  else if (inputs.signal?.aborted === true) outcome.abortReason = 'interrupted';
  return outcome;
}
