import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { fieldMap, HASH_FIELD_SLACK } from './batch-read-script.js';

/**
 * Batch reads with plain pipelined commands: the path when the server does not run the read
 * script (Redis < 7, an ACL without EVAL_RO, a Cluster node), and for the values the script leaves
 * out because they are large. Each command copies at most one value of at most --max-value-bytes,
 * and other clients' commands are served between them; nothing over the limit is ever fetched.
 */

/** The structural subset of an ioredis pipeline used here: read commands only. */
export interface PipelineLike {
  strlen(key: Buffer): PipelineLike;
  hlen(key: Buffer): PipelineLike;
  hkeysBuffer(key: Buffer): PipelineLike;
  hstrlen(key: Buffer, field: Buffer): PipelineLike;
  type(key: Buffer): PipelineLike;
  getrangeBuffer(key: Buffer, start: number, end: number): PipelineLike;
  hgetallBuffer(key: Buffer): PipelineLike;
  /** Lists, sets and sorted sets (collection-reads.ts). */
  llen(key: Buffer): PipelineLike;
  scard(key: Buffer): PipelineLike;
  zcard(key: Buffer): PipelineLike;
  lrangeBuffer(key: Buffer, start: number, stop: number): PipelineLike;
  smembersBuffer(key: Buffer): PipelineLike;
  zrangeBuffer(key: Buffer, start: number, stop: number, withScores: 'WITHSCORES'): PipelineLike;
  pttl(key: Buffer): PipelineLike;
  call(command: string, ...args: (string | Buffer)[]): PipelineLike;
  /** --sampling random / source (random-keys.ts). */
  randomkeyBuffer(): PipelineLike;
  exists(key: Buffer): PipelineLike;
}

export type Replies = [Error | null, unknown][];

/** Sends pipelines: the reader bounds each by its reply watch and turns connection failures into ConnectionErrors. */
export interface PipelineRunner {
  pipeline(): PipelineLike;
  exec(pipe: PipelineLike): Promise<Replies>;
}

/** Hash sizes are field counts first (HLEN is O(1)): allow one field per 64 bytes of the limit. */
export function hashFieldLimit(maxValueBytes: number): number {
  return Math.max(1, Math.floor(maxValueBytes / 64));
}

/** Values fetched per pipeline, at most: a batch of large values is several round trips, not one huge reply. */
const PIPELINE_BYTES = 8 * 1024 * 1024;

/**
 * Strings: GETRANGE 0..limit + PTTL per key. GETRANGE returns at most limit + 1 bytes, so a value
 * over the limit is never transferred whole, while the common case needs no separate STRLEN. The
 * rare oversize or wrong-type keys get a follow-up STRLEN / TYPE. `sizes` (from the script), when
 * known, split the keys into pipelines of at most PIPELINE_BYTES.
 */
export async function readStrings(run: PipelineRunner, keys: readonly Buffer[], maxValueBytes: number, sizes?: readonly number[]): Promise<CacheRead[]> {
  const results = new Array<CacheRead>(keys.length);
  const followUps: FollowUp[] = [];
  for (const group of byBytes(keys.length, (i) => sizes?.[i] ?? 0)) {
    const pipe = run.pipeline();
    for (const i of group) pipe.getrangeBuffer(keys[i] as Buffer, 0, maxValueBytes).pttl(keys[i] as Buffer);
    const replies = await run.exec(pipe);
    group.forEach((i, n) => {
      const [valueError, value] = replies[2 * n] as [Error | null, Buffer];
      const [pttlError, pttl] = replies[2 * n + 1] as [Error | null, number];
      const error = valueError ?? pttlError;
      if (error !== null) {
        if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
        else results[i] = { kind: 'error', message: error.message };
      } else if (pttl === -2) {
        results[i] = { kind: 'gone' };
      } else if (value.length > maxValueBytes) {
        followUps.push({ index: i, ask: 'strlen' });
      } else {
        results[i] = { kind: 'present', redisType: 'string', value, pttlMs: pttl };
      }
    });
  }
  if (followUps.length > 0) await followUp(run, keys, followUps, results, 'string');
  return results;
}

/**
 * Hashes, bounded by bytes as well as fields: HLEN and MEMORY USAGE (which walks the hash without
 * copying it) first; a hash that may hold more than the limit by that measure is sized exactly
 * (HKEYS, then HSTRLEN per field) and is too-large, never fetched, when it does. Only then
 * HGETALL + PTTL, in pipelines of at most PIPELINE_BYTES.
 */
export async function readHashes(run: PipelineRunner, keys: readonly Buffer[], maxValueBytes: number): Promise<CacheRead[]> {
  const sizePipe = run.pipeline();
  for (const key of keys) sizePipe.hlen(key).call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const sizes = await run.exec(sizePipe);

  const results = new Array<CacheRead>(keys.length);
  const followUps: FollowUp[] = [];
  const fetch: number[] = [];
  const bytes = new Array<number>(keys.length).fill(0);
  const measure: number[] = [];
  const limit = hashFieldLimit(maxValueBytes);
  for (let i = 0; i < keys.length; i++) {
    const [error, size] = sizes[2 * i] as [Error | null, number];
    const [memoryError, memory] = sizes[2 * i + 1] as [Error | null, number | null];
    if (error !== null) {
      if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
      else results[i] = { kind: 'error', message: error.message };
    } else if (size === 0) {
      results[i] = { kind: 'gone' };
    } else if (size > limit) {
      results[i] = { kind: 'too-large', redisType: 'hash', size, unit: 'fields' };
    } else if (memoryError === null && memory !== null && memory + HASH_FIELD_SLACK * size <= maxValueBytes) {
      bytes[i] = memory;
      fetch.push(i);
    } else {
      // MEMORY USAGE refused (ACL) or over the limit: count the bytes exactly before fetching anything.
      measure.push(i);
    }
  }
  for (const [i, exact] of await exactHashBytes(run, keys, measure)) {
    if (typeof exact === 'string') results[i] = { kind: 'error', message: exact };
    else if (exact > maxValueBytes) results[i] = { kind: 'too-large', redisType: 'hash', size: exact, unit: 'bytes' };
    else if (exact === 0) results[i] = { kind: 'gone' };
    else {
      bytes[i] = exact;
      fetch.push(i);
    }
  }

  for (const group of byBytes(fetch.length, (n) => bytes[fetch[n] as number] ?? 0)) {
    const valuePipe = run.pipeline();
    for (const n of group) valuePipe.hgetallBuffer(keys[fetch[n] as number] as Buffer).pttl(keys[fetch[n] as number] as Buffer);
    const replies = await run.exec(valuePipe);
    group.forEach((n, j) => {
      const keyIndex = fetch[n] as number;
      const [valueError, value] = replies[2 * j] as [Error | null, Buffer[] | Record<string, Buffer>];
      const [pttlError, pttl] = replies[2 * j + 1] as [Error | null, number];
      const error = valueError ?? pttlError;
      const fields = Array.isArray(value) ? fieldMap(value) : value;
      if (error !== null) {
        if (isWrongType(error)) followUps.push({ index: keyIndex, ask: 'type' });
        else results[keyIndex] = { kind: 'error', message: error.message };
      } else if (pttl === -2 || Object.keys(fields).length === 0) {
        results[keyIndex] = { kind: 'gone' };
      } else {
        results[keyIndex] = { kind: 'present', redisType: 'hash', value: fields, pttlMs: pttl };
      }
    });
  }
  if (followUps.length > 0) await followUp(run, keys, followUps, results, 'hash');
  return results;
}

/** The bytes of each hash's field names and values (HKEYS, then HSTRLEN per field), or a per-key error message. */
async function exactHashBytes(run: PipelineRunner, keys: readonly Buffer[], indexes: readonly number[]): Promise<Map<number, number | string>> {
  const out = new Map<number, number | string>();
  if (indexes.length === 0) return out;
  const namePipe = run.pipeline();
  for (const i of indexes) namePipe.hkeysBuffer(keys[i] as Buffer);
  const names = await run.exec(namePipe);
  const lengthPipe = run.pipeline();
  indexes.forEach((i, n) => {
    const [error, fields] = names[n] as [Error | null, Buffer[]];
    if (error !== null) out.set(i, error.message);
    else for (const field of fields) lengthPipe.hstrlen(keys[i] as Buffer, field);
  });
  const lengths = await run.exec(lengthPipe);
  let at = 0;
  indexes.forEach((i, n) => {
    if (out.has(i)) return;
    let total = 0;
    for (const field of (names[n] as [null, Buffer[]])[1]) {
      const [error, length] = lengths[at++] as [Error | null, number];
      if (error !== null && !out.has(i)) out.set(i, error.message);
      total += field.length + (error === null ? length : 0);
    }
    if (!out.has(i)) out.set(i, total);
  });
  return out;
}

export type FollowUp = { index: number; ask: 'strlen' | 'type' };

/** The rare keys that need a second look: the real size of an oversize string, the type of a misfit. */
export async function followUp(run: PipelineRunner, keys: readonly Buffer[], followUps: readonly FollowUp[], results: CacheRead[], expected: RedisValueType): Promise<void> {
  const pipe = run.pipeline();
  for (const { index, ask } of followUps) {
    if (ask === 'strlen') pipe.strlen(keys[index] as Buffer);
    else pipe.type(keys[index] as Buffer);
  }
  const replies = await run.exec(pipe);
  followUps.forEach(({ index, ask }, n) => {
    const [error, answer] = replies[n] as [Error | null, unknown];
    if (error !== null) results[index] = { kind: 'error', message: error.message };
    else if (ask === 'strlen') results[index] = { kind: 'too-large', redisType: expected, size: Number(answer), unit: 'bytes' };
    else if (answer === 'none') results[index] = { kind: 'gone' };
    else results[index] = { kind: 'present', redisType: String(answer), value: Buffer.alloc(0), pttlMs: -1 };
  });
}

/** Indexes 0..count-1 in groups whose known sizes add up to at most PIPELINE_BYTES (a group holds one key at least). */
export function byBytes(count: number, sizeOf: (i: number) => number): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const size = Math.max(0, sizeOf(i));
    if (group.length > 0 && bytes + size > PIPELINE_BYTES) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(i);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export function isWrongType(error: Error): boolean {
  return error.message.startsWith('WRONGTYPE');
}
