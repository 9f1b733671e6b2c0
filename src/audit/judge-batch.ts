import type { CacheReader } from '../cache/types.js';
import { awaitsConfirmation, classifyObservation, confirmJudgement } from '../core/classify.js';
import { boundFinding } from '../core/bounded-finding.js';
import type { CacheRead, CacheValue, Observation, ScoredMember, SourceRead } from '../core/observation.js';
import { idsNeedingRows, observationsOf, type SourceOutcome } from '../core/observe.js';
import type { FamilyRule } from '../core/rule.js';
import type { Finding, Judgement } from '../core/verdict.js';
import { SourceQueryError, type SourceLoader } from '../sources/types.js';
import type { KeyRef } from './key-ref.js';
import type { AuditLog } from './log.js';
import type { Throttle } from './throttle.js';

export interface BatchContext {
  cache: CacheReader;
  loader: SourceLoader;
  throttle: Throttle;
  maxValueBytes: number;
  /** Delay before re-reading divergent candidates; 0 disables the confirmation re-read. */
  confirmDelayMs: number;
  log: AuditLog;
  /** Told how long each source query took, for the batch sizer. */
  onQuery?(durationMs: number, keys: number): void;
  /** Current replication lag of the replicas read for this family, ms (0 on masters). */
  replicaLagMs?(): number;
  /** Told how long each Redis read took, for the latency gate. */
  onCacheRead?(durationMs: number): void;
  /** Told how many value bytes each Redis read brought into memory for how many keys, for the batch sizer. */
  onValues?(bytes: number, keys: number): void;
  /** Sees each batch's first observations (not the confirmation re-reads): run-audit.ts samples cached fields. */
  onObserved?(observations: readonly Observation[]): void;
  /** Told when the source query failed for a whole batch (not a timeout): the gate names it. */
  onBatchFailed?(keys: number, message: string): void;
}

/** A key first judged divergent, waiting for its confirmation re-read. */
export interface Suspect {
  ref: KeyRef;
  judgement: Judgement;
}

export interface BatchOutcome {
  /** Keys decided on the first read. */
  findings: Finding[];
  /** Divergent candidates to re-read after the confirmation delay (empty when it is 0). */
  suspects: Suspect[];
}

/**
 * Judges one batch of one family: one pipelined cache read, one source query, the pure classifier.
 * Divergent candidates are handed back as suspects rather than re-read here, so the confirmation
 * delay never holds a batch slot. A failed source query becomes `error` verdicts for the batch; a
 * lost connection (ConnectionError) propagates and ends the audit.
 */
export async function judgeBatch(rule: FamilyRule, refs: readonly KeyRef[], ctx: BatchContext): Promise<BatchOutcome> {
  const observations = await observe(rule, refs, ctx);
  ctx.onObserved?.(observations);
  const outcome: BatchOutcome = { findings: [], suspects: [] };
  for (let i = 0; i < observations.length; i++) {
    const ref = refs[i] as KeyRef;
    const judgement = classifyObservation(rule, observations[i] as Observation);
    // Judged: the value read (up to --max-value-bytes) can go before the next key is decoded.
    observations[i] = RELEASED;
    // A suspect waits out the confirmation delay: it keeps only what a finding keeps of its values.
    if (awaitsConfirmation(judgement, ctx.confirmDelayMs)) outcome.suspects.push({ ref, judgement: boundFinding(rule, judgement as Finding) });
    else outcome.findings.push(toFinding(rule, ref, judgement));
  }
  return outcome;
}

/** Step 9: reads both sides of the suspects again and judges the second observation. */
export async function confirmSuspects(rule: FamilyRule, suspects: readonly Suspect[], ctx: BatchContext): Promise<Finding[]> {
  // A failed re-read leaves the first judgements standing (confirmJudgement): its keys were judged,
  // so it is not a batch the gate may call unjudged (onBatchFailed).
  const again = await observe(
    rule,
    suspects.map((s) => s.ref),
    { ...ctx, onBatchFailed: undefined },
  );
  return suspects.map((suspect, i) => {
    const second = classifyObservation(rule, again[i] as (typeof again)[number]);
    return toFinding(rule, suspect.ref, confirmJudgement(suspect.judgement, second));
  });
}

/** Turns the judgement into a finding in place (no copy per key on the hot path), bounded (core/bounded-finding.ts). */
function toFinding(rule: FamilyRule, ref: KeyRef, judgement: Judgement): Finding {
  const finding = judgement as Finding;
  finding.key = ref.key;
  finding.family = rule.name;
  return boundFinding(rule, finding);
}

async function observe(rule: FamilyRule, refs: readonly KeyRef[], ctx: BatchContext): Promise<Observation[]> {
  await ctx.throttle.take(refs.length);
  const readStartedAt = Date.now();
  const reads = await ctx.cache.read(
    refs.map((r) => r.raw),
    rule.type,
    ctx.maxValueBytes,
  );
  const cacheReadAtMs = Date.now();
  ctx.onCacheRead?.(cacheReadAtMs - readStartedAt);
  ctx.onValues?.(valueBytes(reads), reads.length);

  const ids = idsNeedingRows(rule, refs, reads);
  let source: SourceOutcome = { kind: 'not-asked' };
  if (ids.length > 0) {
    const loadStartedAtMs = Date.now();
    try {
      const answer = await ctx.loader.load(rule, ids);
      ctx.onQuery?.(Date.now() - loadStartedAtMs, ids.length);
      if (answer.duplicateIds !== undefined) {
        ctx.log.warn({ family: rule.name, ids: answer.duplicateIds.length }, 'the source returned several rows for one id: those keys are judged error/source-error');
      }
      source = { kind: 'answered', answer, loadStartedAtMs };
    } catch (error) {
      if (!(error instanceof SourceQueryError)) throw error;
      ctx.log.warn({ family: rule.name, keys: ids.length, timeout: error.timeout, error: error.message }, 'source query failed: the batch is judged error');
      if (!error.timeout) ctx.onBatchFailed?.(ids.length, error.message);
      source = { kind: 'failed', message: error.message, timeout: error.timeout };
    }
  }
  return observationsOf(rule, { keys: refs, reads, cacheReadAtMs, source, replicaLagMs: ctx.replicaLagMs?.() ?? 0 });
}

/** The bytes of the values a read holds in memory (a hash: its field names and values). */
export function valueBytes(reads: readonly CacheRead[]): number {
  let bytes = 0;
  for (const read of reads) {
    if (read.kind !== 'present') continue;
    bytes += cacheValueBytes(read.value);
  }
  return bytes;
}

/** The bytes a cached value holds: a string's, a hash's field names and values, a collection's elements (and scores). */
export function cacheValueBytes(value: CacheValue): number {
  if (Buffer.isBuffer(value)) return value.length;
  let bytes = 0;
  if (Array.isArray(value)) {
    for (const element of value as readonly (Buffer | ScoredMember)[]) {
      bytes += Buffer.isBuffer(element) ? element.length : element.member.length + element.score.length;
    }
    return bytes;
  }
  const map = value as Readonly<Record<string, Buffer>>;
  for (const field in map) bytes += field.length + (map[field] as Buffer).length;
  return bytes;
}

const ABSENT: SourceRead = { kind: 'absent' };
/** Stands in for an observation already judged, so that its value can be collected. */
const RELEASED: Observation = { key: '', cache: { kind: 'gone' }, source: ABSENT, nowMs: 0 };
