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

/** A Cluster master as the shard assignment sees it: the slot ranges it serves (inclusive). */
export interface MasterSlots {
  ranges: readonly (readonly [number, number])[];
}

/** What shard i of N takes of a Cluster: the masters it scans and the slots it owns. */
export interface ClusterShardPart {
  /** Indexes into the masters given, in the order of their lowest slot. */
  masters: number[];
  /** The slots it owns, merged ranges in slot order (inclusive). */
  slots: [number, number][];
}

/**
 * `--shard i/N` on a Redis Cluster: which masters each shard scans and which slots it owns, so
 * that no shard SCANs a node another shard scans (when N <= masters) and the N shards' slots
 * partition the keyspace exactly. Masters are taken in the order of their lowest slot, not the
 * order given, so every process that read the same slot map assigns the same way.
 * - N <= masters: shard i takes whole masters, every master j with j mod N = i.
 * - N > masters: shard i takes one master, j = i mod M, and master j's slots (in slot order) are
 *   cut into as many contiguous parts as shards share it, near-equal in slot count; the shards of
 *   a master then all SCAN that master and each keeps its own part's keys. (A part may be empty
 *   only when a master serves fewer slots than the shards that share it.)
 * Slots no master serves are owned by no shard.
 */
export function clusterShardParts(masters: readonly MasterSlots[], count: number): ClusterShardPart[] {
  const { owners, scanned } = assignSlots(masters, count);
  const parts: ClusterShardPart[] = scanned.map((list) => ({ masters: list, slots: [] }));
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const shard = owners[slot] as number;
    if (shard < 0) continue;
    const ranges = (parts[shard] as ClusterShardPart).slots;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === slot - 1) last[1] = slot;
    else ranges.push([slot, slot]);
  }
  return parts;
}

/** Which shard owns each of the 16384 slots under clusterShardParts; -1 for a slot no master serves. */
export function clusterSlotOwners(masters: readonly MasterSlots[], count: number): Int32Array {
  return assignSlots(masters, count).owners;
}

/** The assignment itself: each slot's shard, and each shard's masters (see clusterShardParts). */
function assignSlots(masters: readonly MasterSlots[], count: number): { owners: Int32Array; scanned: number[][] } {
  const owners = new Int32Array(SLOT_COUNT).fill(-1);
  const scanned: number[][] = Array.from({ length: count }, () => []);
  const order = masters
    .map((m, index) => ({ index, first: Math.min(...m.ranges.map(([from]) => from)) }))
    .sort((a, b) => a.first - b.first || a.index - b.index);
  const m = order.length;
  order.forEach(({ index }, j) => {
    const slots: number[] = [];
    for (const [from, to] of (masters[index] as MasterSlots).ranges) for (let slot = from; slot <= to; slot++) slots.push(slot);
    slots.sort((a, b) => a - b);
    if (count <= m) {
      (scanned[j % count] as number[]).push(index);
      for (const slot of slots) owners[slot] = j % count;
      return;
    }
    // Shards j, j + M, j + 2M... share master j, each a contiguous part of its slots.
    const sharing = Math.ceil((count - j) / m);
    for (let t = 0; t < sharing; t++) {
      const shard = j + t * m;
      (scanned[shard] as number[]).push(index);
      const [lo, hi] = [Math.floor((t * slots.length) / sharing), Math.floor(((t + 1) * slots.length) / sharing)];
      for (let k = lo; k < hi; k++) owners[slots[k] as number] = shard;
    }
  });
  return { owners, scanned };
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
