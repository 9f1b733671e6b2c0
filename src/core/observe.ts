import type { ColumnTypes } from './column-type.js';
import type { CacheRead, CacheValue, Observation, SourceRead } from './observation.js';
import type { FamilyRule } from './rule.js';

/**
 * Turns what the edges read (cache reads, a source batch, timings, replica lag) into observations.
 * `audit` (judge-batch.ts) and `explain` both build their observations here, so that the two can
 * never judge one key differently: clock alignment, which keys need their row, what a duplicate
 * or failed row means, and the replica lag all come from this one place.
 */

/** What a source query answered for a batch of ids: facts only, the loader decides no verdict. */
export interface SourceAnswer {
  rows: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** The database's clock when the batch was read, epoch ms. */
  nowMs: number;
  /** Ids for which the query returned more than one row. */
  duplicateIds?: readonly string[];
  /** Ids the query failed on by themselves, with the database's message. */
  failedIds?: ReadonlyMap<string, string>;
  columns?: ColumnTypes;
}

/** How the source side of a batch went. */
export type SourceOutcome =
  /** `loadStartedAtMs`: the host's clock when the query was sent, to align the database's clock. */
  | { kind: 'answered'; answer: SourceAnswer; loadStartedAtMs: number }
  /** The query failed for the whole batch. */
  | { kind: 'failed'; message: string; timeout: boolean }
  /** No key of the batch needed its row (see needsSourceRow). */
  | { kind: 'not-asked' };

export interface ObservedKey {
  /** Display form of the key. */
  key: string;
  /** The id captured from the key, as the loader was asked for it. */
  id: string;
}

export interface ObservationInputs {
  keys: readonly ObservedKey[];
  /** One read per key, in the same order. */
  reads: readonly CacheRead[];
  /** The host's clock when Redis answered, epoch ms. */
  cacheReadAtMs: number;
  source: SourceOutcome;
  /** Replication lag of the replicas read (replicaLagAllowanceMs), ms; 0 when reading primaries. */
  replicaLagMs: number;
}

/**
 * Whether a key's row is needed to judge it: only a value present with the rule's Redis type is
 * compared. Step 1 decides the others (vanished, wrong-type, too-large) and a failed cache read is
 * `cache-error` whatever the source says, so their rows are not loaded.
 */
export function needsSourceRow(rule: Pick<FamilyRule, 'type'>, read: CacheRead | undefined): boolean {
  return read?.kind === 'present' && read.redisType === rule.type;
}

/** The ids of a batch whose rows must be loaded, in order. */
export function idsNeedingRows(rule: Pick<FamilyRule, 'type'>, keys: readonly ObservedKey[], reads: readonly CacheRead[]): string[] {
  return keys.flatMap((key, i) => (needsSourceRow(rule, reads[i]) ? [key.id] : []));
}

/**
 * The database's clock at the moment Redis answered, so that PTTL and now() describe one instant:
 * the database read its clock about (load start - cache read) after Redis answered.
 */
export function alignedNowMs(databaseNowMs: number, loadStartedAtMs: number, cacheReadAtMs: number): number {
  return databaseNowMs - (loadStartedAtMs - cacheReadAtMs);
}

/**
 * The lag to allow for when the cache and a source are read, ms: what each replica shows may be
 * that far behind its primary, and the two delays add up. Undefined sides are primaries.
 */
export function replicaLagAllowanceMs(redisLagMs: number | undefined, sourceLagMs: number | undefined): number {
  return (redisLagMs ?? 0) + (sourceLagMs ?? 0);
}

/**
 * What an answer says about one id. An id with several rows is `error/source-error`, not the first
 * row: the family's key does not identify one row (a column of a composite key, a join that fans
 * out), and judging whichever row came first would report a correct entry as divergent.
 */
export function sourceReadOf(answer: SourceAnswer, rule: Pick<FamilyRule, 'key'>, id: string): SourceRead {
  if (answer.duplicateIds !== undefined && answer.duplicateIds.includes(id)) {
    const columns = rule.key.length === 1 ? `column ${rule.key[0] as string}` : `columns ${rule.key.join(', ')}`;
    return {
      kind: 'error',
      message: `the source returned more than one row for this id: the key ${columns} does not identify one row (a composite key needs every column, like key: [tenant_id, id]; a join must not fan out)`,
      timeout: false,
    };
  }
  const failed = answer.failedIds?.get(id);
  if (failed !== undefined) return { kind: 'error', message: failed, timeout: false };
  const row = answer.rows.get(id);
  if (row === undefined) return ABSENT;
  return answer.columns === undefined ? { kind: 'row', row } : { kind: 'row', row, columns: answer.columns };
}

/**
 * One observation per key. A key that does not need its row (needsSourceRow) is observed with no
 * row even when one was loaded (explain loads it to show it), so that its verdict is the audit's.
 */
export function observationsOf(rule: Pick<FamilyRule, 'type' | 'key'>, inputs: ObservationInputs): Observation[] {
  const { source } = inputs;
  let sourceFor: (id: string) => SourceRead = () => ABSENT;
  // Without an answer nothing reaches a time comparison (step 1 or 2 decides), so the host's clock serves.
  let nowMs = inputs.cacheReadAtMs;
  if (source.kind === 'answered') {
    nowMs = alignedNowMs(source.answer.nowMs, source.loadStartedAtMs, inputs.cacheReadAtMs);
    sourceFor = (id) => sourceReadOf(source.answer, rule, id);
  } else if (source.kind === 'failed') {
    const failed: SourceRead = { kind: 'error', message: source.message, timeout: source.timeout };
    sourceFor = () => failed;
  }
  return inputs.keys.map((ref, i): Observation => {
    const cache = inputs.reads[i] ?? GONE;
    const obs: Observation = { key: ref.key, cache, source: needsSourceRow(rule, cache) ? sourceFor(ref.id) : ABSENT, nowMs };
    if (inputs.replicaLagMs > 0) obs.replicaLagMs = inputs.replicaLagMs;
    return obs;
  });
}

/** Whether the raw value is the rule's negative marker (SEMANTICS.md step 2: it is not decoded). */
export function isNegativeMarker(rule: Pick<FamilyRule, 'negativeMarker'>, value: CacheValue): boolean {
  const marker = rule.negativeMarker;
  return marker !== undefined && Buffer.isBuffer(value) && value.length === Buffer.byteLength(marker) && value.toString('utf8') === marker;
}

const ABSENT: SourceRead = { kind: 'absent' };
const GONE: CacheRead = { kind: 'gone' };
