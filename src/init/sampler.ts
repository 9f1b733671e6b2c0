/**
 * Key names and sampled values from Redis, through the audit's own cache reader (read-only
 * command allowlist): a bounded SCAN of every key, then batch reads of a sample of each pattern.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import type { CacheReader } from '../cache/index.js';
import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import type { ValueSample } from './payloads.js';

/** The scan stops after this many keys: enough to see the key families, bounded on any keyspace. */
export const SCAN_LIMIT = 10_000;
const SCAN_COUNT = 1000;
/** Values read per pattern, at most, and the largest value fetched. */
export const SAMPLES_PER_PATTERN = 1000;
export const SAMPLE_VALUE_BYTES = 64 * 1024;
const READ_BATCH = 200;

export interface ScanResult {
  keys: string[];
  /** Keys whose names are not UTF-8 text (patterns are text): left out. */
  binary: number;
  /** The scan stopped at SCAN_LIMIT before the end of the keyspace. */
  truncated: boolean;
}

export async function scanKeys(reader: CacheReader, limit = SCAN_LIMIT): Promise<ScanResult> {
  const seen = new Set<string>();
  let binary = 0;
  let truncated = false;
  outer: for await (const batch of reader.scan('*', SCAN_COUNT)) {
    for (const key of batch) {
      if (seen.size >= limit) {
        truncated = true;
        break outer;
      }
      if (isUtf8(key)) seen.add(key.toString('utf8'));
      else binary++;
    }
  }
  return { keys: [...seen], binary, truncated };
}

/** The Redis types read again with their own type after the first read (as strings) told them. */
const REREAD_TYPES: readonly RedisValueType[] = ['hash', 'list', 'set', 'zset'];

function toSample(key: string, id: string, read: CacheRead | undefined, readAs: RedisValueType): ValueSample {
  if (read === undefined) return { key, id, redisType: 'error' };
  switch (read.kind) {
    case 'present':
      // A key of another type than it was read as carries no value: only its type is known until it is read as itself.
      if (read.redisType !== readAs) return { key, id, redisType: read.redisType };
      return { key, id, redisType: read.redisType, value: read.value, pttlMs: read.pttlMs };
    case 'gone':
      return { key, id, redisType: 'gone' };
    case 'too-large':
      return { key, id, redisType: 'too-large' };
    case 'error':
      return { key, id, redisType: 'error' };
  }
}

/**
 * Reads the keys as strings; the ones that turn out to be hashes, lists, sets or sorted sets are
 * read again as such (the reader reads one type per batch). Other types keep only their type.
 */
export async function readSamples(reader: CacheReader, keys: readonly { key: string; id: string }[]): Promise<ValueSample[]> {
  const out: ValueSample[] = [];
  for (let i = 0; i < keys.length; i += READ_BATCH) {
    const batch = keys.slice(i, i + READ_BATCH);
    const reads = await reader.read(
      batch.map((k) => Buffer.from(k.key, 'utf8')),
      'string',
      SAMPLE_VALUE_BYTES,
    );
    const samples = batch.map((k, n) => toSample(k.key, k.id, reads[n], 'string'));
    for (const type of REREAD_TYPES) {
      const ofType = samples.map((s, n) => (s.redisType === type ? n : -1)).filter((n) => n !== -1);
      if (ofType.length === 0) continue;
      const again = await reader.read(
        ofType.map((n) => Buffer.from(batch[n]?.key ?? '', 'utf8')),
        type,
        SAMPLE_VALUE_BYTES,
      );
      ofType.forEach((n, j) => (samples[n] = toSample(batch[n]?.key ?? '', batch[n]?.id ?? '', again[j], type)));
    }
    out.push(...samples);
  }
  return out;
}
