import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { UsageError } from '../errors.js';
import type { FamilyRule } from './rule.js';

/** Redis Cluster's hash slots: a key's slot is CRC16 of its name (or of its {hash tag}) mod 16384. */
export const SLOT_COUNT = 16384;

/** This process's part of the keyspace: shard `index` of `count`, numbered from 0. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * `--shard i/N`: shard i of N, 0 <= i < N <= 16384. Throws a UsageError (exit 2) saying what was
 * expected, since the value usually comes from a scheduler's template (Kubernetes'
 * JOB_COMPLETION_INDEX counts from 0, so `N/N` is the classic off-by-one).
 */
export function parseShard(text: string): Shard {
  const hint = 'for example, four processes run --shard 0/4, 1/4, 2/4 and 3/4';
  const parts = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (parts === null) {
    throw new UsageError(`--shard takes i/N (shard i of N, counting from 0), got "${text}"`, { hint });
  }
  const index = Number(parts[1]);
  const count = Number(parts[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: the shard count must be at least 1`, { hint });
  if (count > SLOT_COUNT) {
    throw new UsageError(`--shard ${text}: at most ${SLOT_COUNT} shards, one per Redis Cluster hash slot`, { hint });
  }
  if (index >= count) {
    throw new UsageError(`--shard ${text}: the index must be below the count; ${count} shards are numbered 0 to ${count - 1}`, { hint });
  }
  return { index, count };
}

/** The hash slots shard `index` of `count` owns: [start, end), contiguous, about 16384 / count of them. */
export function slotRange(shard: Shard): { start: number; end: number } {
  return { start: Math.floor((shard.index * SLOT_COUNT) / shard.count), end: Math.floor(((shard.index + 1) * SLOT_COUNT) / shard.count) };
}

/**
 * The shard of `count` that owns this key: the one whose slot range holds the key's Redis Cluster
 * hash slot. Slots, not a hash of our own, so keys sharing a {hash tag} share a shard, and so a
 * shard is a set of slot ranges a cluster-aware sampler could one day scan alone. `key` as raw
 * bytes (what SCAN returns) or as a string (its UTF-8 bytes).
 */
export function shardOfKey(key: Buffer | string, count: number): number {
  return count <= 1 ? 0 : shardOfSlot(calculateSlot(key), count);
}

/** The shard of `count` whose slot range (see slotRange) holds `slot`. */
export function shardOfSlot(slot: number, count: number): number {
  // The largest i with floor(i * SLOT_COUNT / count) <= slot, i.e. i < (slot + 1) * count / SLOT_COUNT.
  return Math.floor(((slot + 1) * count - 1) / SLOT_COUNT);
}

/** A key's Redis Cluster hash slot (CRC16 of the key, or of its first non-empty {hash tag}). */
export function keySlot(key: Buffer | string): number {
  return calculateSlot(key);
}

export function ownsKey(shard: Shard, key: Buffer | string): boolean {
  return shard.count <= 1 || shardOfKey(key, shard.count) === shard.index;
}

/**
 * What a sharded run's report carries so `shadowcheck merge` can check that the reports belong
 * together and re-run the gate without the rules file: which shard it is, a digest of the rules
 * that judged it, and the families' own `minConsistency` thresholds.
 */
export interface ShardMeta extends Shard {
  /** `sha256:` and 16 hex digits of the compiled rules (source URLs excluded: they hold secrets and may differ per host). */
  rulesDigest: string;
  /** Family name → its rule's minConsistency, for the families that set one. */
  minConsistency: Record<string, number>;
}

/** The shard description for a run's report; `families` is every family of the rules file. */
export function shardMeta(shard: Shard, families: readonly FamilyRule[]): ShardMeta {
  const minConsistency: Record<string, number> = {};
  for (const f of families) if (f.minConsistency !== undefined) minConsistency[f.name] = f.minConsistency;
  return { index: shard.index, count: shard.count, rulesDigest: rulesDigest(families), minConsistency };
}

/**
 * Identifies the rules a run judged by: every family's compiled settings (pattern, source name,
 * query, fields, durations, normalizers...), in rules-file order, canonically serialized so the
 * digest does not depend on property order.
 */
export function rulesDigest(families: readonly FamilyRule[]): string {
  const data = families.map((f) => ({ ...f, pattern: f.pattern.source }));
  return `sha256:${createHash('sha256').update(canonicalJson(data)).digest('hex').slice(0, 16)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && typeof v !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
