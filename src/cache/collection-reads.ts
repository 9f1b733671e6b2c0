import type { CacheRead, ScoredMember } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { byBytes, followUp, hashFieldLimit, isWrongType, type FollowUp, type PipelineLike, type PipelineRunner } from './pipelined-reads.js';

/**
 * Lists, sets and sorted sets, with plain pipelined read commands (never the batch read script,
 * whose Lua reads strings and hashes only). Per batch:
 *  1. LLEN / SCARD / ZCARD (O(1)): a key with more elements than hashFieldLimit(maxValueBytes) is
 *     too-large (unit 'elements') and never fetched; 0 elements means the key is gone (Redis
 *     deletes an emptied collection);
 *  2. MEMORY USAGE ... SAMPLES 0 for the rest (it walks at most that many elements, copies none):
 *     a key whose memory, less COLLECTION_ELEMENT_OVERHEAD per element, is over the limit is
 *     too-large (unit 'bytes', that lower bound as its size) and never fetched. Where MEMORY is
 *     refused (ACL) the element count is the only bound before the fetch;
 *  3. LRANGE / SMEMBERS / ZRANGE ... WITHSCORES + PTTL (PTTL beside the value it describes), in
 *     pipelines of at most PIPELINE_BYTES by that estimate; a list or zset at most limit + 1
 *     elements (the whole value, unless it grew past the limit since step 1). A value that turns
 *     out over either limit once fetched (it grew, or MEMORY was refused or undercounts, e.g. LZF
 *     compressed list nodes) is too-large all the same: what reaches the classifier never exceeds
 *     the limit, and what is transferred stays within a few times it (a set that grows past the
 *     limit between SCARD and SMEMBERS, milliseconds apart, is the exception).
 */

export type CollectionType = 'list' | 'set' | 'zset';

/**
 * What MEMORY USAGE counts per element beyond the element's own bytes, at most (measured on
 * Redis 7.0 with short members: ~95 bytes for a skiplist zset, ~48 for a hashtable set, ~7 for a
 * quicklist). Subtracting it keeps a zset of many short members from looking too large.
 */
export const COLLECTION_ELEMENT_OVERHEAD = 128;
/**
 * What MEMORY USAGE may undercount per element: integers stored in fewer bytes than their digits
 * (intsets, listpacks), and a zset score stored as an 8-byte double but sent as text of up to 24.
 */
const COLLECTION_ELEMENT_SLACK = 48;

export function isCollectionType(type: RedisValueType): type is CollectionType {
  return type === 'list' || type === 'set' || type === 'zset';
}

/** Pairs a ZRANGE ... WITHSCORES reply (member, score, member, score...) into members with their score text. */
export function scoredMembers(flat: readonly Buffer[]): ScoredMember[] {
  if (flat.length % 2 !== 0) throw new Error(`a ZRANGE WITHSCORES reply has an odd number of elements (${flat.length})`);
  const out: ScoredMember[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i] as Buffer, score: (flat[i + 1] as Buffer).toString('latin1') });
  return out;
}

/** The bytes of a fetched collection: its elements (and score texts), as judge-batch's cacheValueBytes counts them. */
function elementBytes(value: readonly Buffer[] | readonly ScoredMember[]): number {
  let bytes = 0;
  for (const element of value) bytes += Buffer.isBuffer(element) ? element.length : element.member.length + element.score.length;
  return bytes;
}

function countOf(pipe: PipelineLike, type: CollectionType, key: Buffer): PipelineLike {
  if (type === 'list') return pipe.llen(key);
  if (type === 'set') return pipe.scard(key);
  return pipe.zcard(key);
}

/**
 * The value, at most `limit` + 1 elements of a list or zset (one more than fits tells it grew past
 * the limit since it was counted, without transferring the rest). SMEMBERS has no such bound.
 */
function valueOf(pipe: PipelineLike, type: CollectionType, key: Buffer, limit: number): PipelineLike {
  if (type === 'list') return pipe.lrangeBuffer(key, 0, limit);
  if (type === 'set') return pipe.smembersBuffer(key);
  return pipe.zrangeBuffer(key, 0, limit, 'WITHSCORES');
}

export async function readCollections(run: PipelineRunner, keys: readonly Buffer[], type: CollectionType, maxValueBytes: number): Promise<CacheRead[]> {
  const results = new Array<CacheRead>(keys.length);
  const followUps: FollowUp[] = [];
  const limit = hashFieldLimit(maxValueBytes);

  const countPipe = run.pipeline();
  for (const key of keys) countOf(countPipe, type, key);
  const counts = await run.exec(countPipe);
  const sized: number[] = [];
  keys.forEach((_, i) => {
    const [error, count] = counts[i] as [Error | null, number];
    if (error !== null) {
      if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
      else results[i] = { kind: 'error', message: error.message };
    } else if (count === 0) {
      results[i] = { kind: 'gone' };
    } else if (count > limit) {
      results[i] = { kind: 'too-large', redisType: type, size: count, unit: 'elements' };
    } else {
      sized.push(i);
    }
  });

  const fetch: number[] = [];
  const estimate = new Array<number>(keys.length).fill(0);
  if (sized.length > 0) {
    const memoryPipe = run.pipeline();
    for (const i of sized) memoryPipe.call('MEMORY', 'USAGE', keys[i] as Buffer, 'SAMPLES', '0');
    const memories = await run.exec(memoryPipe);
    sized.forEach((i, n) => {
      const [memoryError, memory] = memories[n] as [Error | null, number | null];
      const count = (counts[i] as [null, number])[1];
      // Refused (ACL) or gone meanwhile (nil): fetch, bounded by the element count; step 3 decides.
      if (memoryError !== null || memory === null) {
        fetch.push(i);
        return;
      }
      const atLeast = memory - COLLECTION_ELEMENT_OVERHEAD * count;
      if (atLeast > maxValueBytes) {
        results[i] = { kind: 'too-large', redisType: type, size: atLeast, unit: 'bytes' };
      } else {
        estimate[i] = memory + COLLECTION_ELEMENT_SLACK * count;
        fetch.push(i);
      }
    });
  }

  const grown: number[] = [];
  for (const group of byBytes(fetch.length, (n) => estimate[fetch[n] as number] ?? 0)) {
    const valuePipe = run.pipeline();
    for (const n of group) valueOf(valuePipe, type, keys[fetch[n] as number] as Buffer, limit).pttl(keys[fetch[n] as number] as Buffer);
    const replies = await run.exec(valuePipe);
    group.forEach((n, j) => {
      const i = fetch[n] as number;
      const [valueError, flat] = replies[2 * j] as [Error | null, Buffer[]];
      const [pttlError, pttl] = replies[2 * j + 1] as [Error | null, number];
      const error = valueError ?? pttlError;
      if (error !== null) {
        if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
        else results[i] = { kind: 'error', message: error.message };
        return;
      }
      if (pttl === -2 || flat.length === 0) {
        results[i] = { kind: 'gone' };
        return;
      }
      let value: Buffer[] | ScoredMember[];
      try {
        value = type === 'zset' ? scoredMembers(flat) : flat;
      } catch (parseError) {
        results[i] = { kind: 'error', message: (parseError as Error).message };
        return;
      }
      const bytes = elementBytes(value);
      if (value.length > limit) grown.push(i);
      else if (bytes > maxValueBytes) results[i] = { kind: 'too-large', redisType: type, size: bytes, unit: 'bytes' };
      else results[i] = { kind: 'present', redisType: type, value, pttlMs: pttl };
    });
  }
  if (grown.length > 0) await recount(run, keys, grown, type, limit, results);
  if (followUps.length > 0) await followUp(run, keys, followUps, results, type);
  return results;
}

/** Collections that grew past the element limit between their count and their fetch: too-large, with their size now. */
async function recount(run: PipelineRunner, keys: readonly Buffer[], indexes: readonly number[], type: CollectionType, limit: number, results: CacheRead[]): Promise<void> {
  const pipe = run.pipeline();
  for (const i of indexes) countOf(pipe, type, keys[i] as Buffer);
  const counts = await run.exec(pipe);
  indexes.forEach((i, n) => {
    const [error, count] = counts[n] as [Error | null, number];
    // Whatever it holds now (it may have shrunk again, or changed type), what was fetched was over the limit.
    const size = error === null ? Math.max(count, limit + 1) : limit + 1;
    results[i] = { kind: 'too-large', redisType: type, size, unit: 'elements' };
  });
}
