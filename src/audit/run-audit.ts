import type { CacheReader } from '../cache/types.js';
import type { FamilyRule } from '../core/rule.js';
import { Tally } from '../core/stats.js';
import type { Finding } from '../core/verdict.js';
import { ConnectionError } from '../errors.js';
import type { SourceLoader } from '../sources/types.js';
import { judgeBatch } from './judge-batch.js';
import { keyBatches, type KeyBatchOptions } from './key-batches.js';
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

  for (const rule of inputs.families) {
    if (isStopped()) break;
    const tally = tallies.get(rule.name) as Tally;
    const loader = inputs.loaders.get(rule.source);
    if (loader === undefined) throw new Error(`no loader for source "${rule.source}"`);
    const ctx = { cache: inputs.cache, loader, throttle, maxValueBytes: options.maxValueBytes, confirmDelayMs: options.confirmDelayMs };
    const inflight = new Set<Promise<void>>();

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

    try {
      const batches = keyBatches(rule, {
        cache: inputs.cache,
        families: inputs.allFamilies,
        throttle,
        isStopped,
        onUnmatched: () => total.unmatched++,
      }, options);
      for await (const refs of batches) {
        while (inflight.size >= options.concurrency) await Promise.race(inflight);
        if (isStopped()) break;
        const task: Promise<void> = judgeBatch(rule, refs, ctx)
          .then(record)
          .catch(fail)
          .finally(() => inflight.delete(task));
        inflight.add(task);
      }
    } catch (error) {
      fail(error);
    }
    await Promise.all(inflight);
  }

  if (stop !== undefined && !(stop.error instanceof ConnectionError)) throw stop.error;
  const outcome: AuditOutcome = { total, families: tallies, incomplete: isStopped() };
  if (stop !== undefined) outcome.abortReason = stop.reason;
  else if (inputs.signal?.aborted === true) outcome.abortReason = 'interrupted';
  return outcome;
}
