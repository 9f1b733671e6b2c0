import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheReader } from '../cache/types.js';
import { classifyObservation, confirmJudgement } from '../core/classify.js';
import type { CacheRead, SourceRead } from '../core/observation.js';
import type { FamilyRule } from '../core/rule.js';
import type { Finding, Judgement } from '../core/verdict.js';
import { SourceQueryError, type SourceLoader } from '../sources/types.js';
import type { KeyRef } from './key-batches.js';
import type { Throttle } from './throttle.js';

export interface BatchContext {
  cache: CacheReader;
  loader: SourceLoader;
  throttle: Throttle;
  maxValueBytes: number;
  /** Delay before re-reading divergent candidates; 0 disables the confirmation re-read. */
  confirmDelayMs: number;
}

/**
 * Judges one batch of one family: one pipelined cache read, one source query, the pure classifier,
 * then a confirmation re-read of the divergent candidates only. A failed source query becomes
 * `error` verdicts for the batch; a lost connection (ConnectionError) propagates and ends the audit.
 */
export async function judgeBatch(rule: FamilyRule, refs: readonly KeyRef[], ctx: BatchContext): Promise<Finding[]> {
  const first = await observe(rule, refs, ctx);
  const judgements = first.map((obs) => classifyObservation(rule, obs));

  const suspects = judgements.flatMap((j, i) => (j.verdict === 'divergent' ? [i] : []));
  if (suspects.length > 0 && ctx.confirmDelayMs > 0) {
    await sleep(ctx.confirmDelayMs);
    const again = await observe(
      rule,
      suspects.map((i) => refs[i] as KeyRef),
      ctx,
    );
    suspects.forEach((keyIndex, n) => {
      const second = classifyObservation(rule, again[n] as (typeof again)[number]);
      judgements[keyIndex] = confirmJudgement(judgements[keyIndex] as Judgement, second);
    });
  }
  return judgements.map((j, i) => ({ ...j, key: (refs[i] as KeyRef).key, family: rule.name }));
}

async function observe(rule: FamilyRule, refs: readonly KeyRef[], ctx: BatchContext) {
  await ctx.throttle.take(refs.length);
  const reads = await ctx.cache.read(
    refs.map((r) => r.raw),
    rule.type,
    ctx.maxValueBytes,
  );
  const cacheReadAt = Date.now();

  // Only keys read with the rule's type need their row: step 1 decides the rest without it.
  const ids = refs.flatMap((ref, i) => {
    const read = reads[i];
    return read?.kind === 'present' && read.redisType === rule.type ? [ref.id] : [];
  });
  let sources: (id: string) => SourceRead = () => ABSENT;
  let nowMs = Date.now();
  if (ids.length > 0) {
    const loadStartedAt = Date.now();
    try {
      const batch = await ctx.loader.load(rule, ids);
      // The database's clock at the moment Redis answered, so PTTL and now() describe one instant.
      nowMs = batch.nowMs - (loadStartedAt - cacheReadAt);
      sources = (id) => {
        const row = batch.rows.get(id);
        return row === undefined ? ABSENT : { kind: 'row', row };
      };
    } catch (error) {
      if (!(error instanceof SourceQueryError)) throw error;
      const failed: SourceRead = { kind: 'error', message: error.message, timeout: error.timeout };
      sources = () => failed;
    }
  }
  return refs.map((ref, i) => ({
    key: ref.key,
    cache: reads[i] as CacheRead,
    source: sources(ref.id),
    nowMs,
  }));
}

const ABSENT: SourceRead = { kind: 'absent' };
