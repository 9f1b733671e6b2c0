import type { CacheReader } from '../cache/types.js';
import { displayKey, keyMatchText } from '../cache/key-name.js';
import type { FamilyRule } from '../core/rule.js';
import { ownsKey, type Shard } from '../core/shard.js';
import { Reservoir } from './reservoir.js';
import type { Throttle } from './throttle.js';

/** A sampled key: its bytes for Redis, its display form for reports, its captured id for the loader. */
export interface KeyRef {
  raw: Buffer;
  key: string;
  id: string;
}

export interface KeyBatchOptions {
  /** Judge every matching key, or a uniform sample of this many per family. */
  sample: number | 'all';
  seed: number;
  batch: number;
  scanCount: number;
  /**
   * Judge only the keys of this shard (`--shard i/N`, by Redis Cluster hash slot), so N processes
   * judge disjoint parts of the keyspace. Each still SCANs every key (on a Cluster, only its own
   * masters: cache.restrictToShard); the others are dropped before sampling and before the
   * unmatched count, so N shards' figures add up to one unsharded run's.
   */
  shard?: Shard;
}

export interface KeyBatchContext {
  cache: CacheReader;
  /** Every family of the run, in rules-file order: decides who owns (or counts as unmatched) a key. */
  families: readonly FamilyRule[];
  throttle: Throttle;
  /** Called once per key that no family's pattern claims. */
  onUnmatched(): void;
  isStopped(): boolean;
}

/**
 * Streams one family's keys in batches. With `--all`, batches leave as SCAN fills them, so memory
 * never holds more than a batch; with `--sample N`, the whole glob is scanned into a reservoir
 * first, because a uniform sample cannot be known before the scan ends.
 */
export async function* keyBatches(rule: FamilyRule, ctx: KeyBatchContext, options: KeyBatchOptions): AsyncGenerator<KeyRef[]> {
  const reservoir = options.sample === 'all' ? undefined : new Reservoir<KeyRef>(options.sample, options.seed);
  let batch: KeyRef[] = [];
  // Each SCAN call takes one unit of --rate before it is sent (a keyspace where the family matches
  // nothing is still scanned at the rate), and each key it returns one more after.
  const beforeScan = () => ctx.throttle.take(1);
  // A Cluster reader limits its scans to the shard's masters and says which keys the shard owns.
  const { shard } = options;
  const owns = shard === undefined ? undefined : (ctx.cache.restrictToShard?.(shard) ?? ((raw: Buffer) => ownsKey(shard, raw)));
  for await (const keys of ctx.cache.scan(rule.pattern.glob, options.scanCount, beforeScan)) {
    await ctx.throttle.take(keys.length);
    for (const raw of keys) {
      if (owns !== undefined && !owns(raw)) continue;
      const text = keyMatchText(raw);
      const id = rule.pattern.match(text);
      if (id === undefined) {
        if (isUnclaimed(text, rule, ctx.families)) ctx.onUnmatched();
        continue;
      }
      const ref = { raw, key: displayKey(raw), id };
      if (reservoir !== undefined) {
        reservoir.offer(ref);
      } else {
        batch.push(ref);
        if (batch.length >= options.batch) {
          yield batch;
          batch = [];
        }
      }
    }
    if (ctx.isStopped()) return;
  }
  if (reservoir !== undefined) {
    const items = reservoir.items();
    for (let i = 0; i < items.length; i += options.batch) yield items.slice(i, i + options.batch);
  } else if (batch.length > 0) {
    yield batch;
  }
}

/**
 * A key this family's glob returned but its pattern rejects (`user:1:settings` under `user:*`) is
 * unmatched when no family claims it. Several families' globs may return the same key: only the
 * first of them in rules-file order counts it, so it is counted once.
 */
function isUnclaimed(key: string, scanning: FamilyRule, families: readonly FamilyRule[]): boolean {
  for (const family of families) {
    if (family.pattern.match(key) !== undefined) return false;
  }
  for (const family of families) {
    if (family === scanning) return true;
    if (globMatches(family.pattern.glob, key)) return false;
  }
  return true;
}

const globCache = new Map<string, RegExp>();

/** Redis glob semantics for the globs compilePattern writes: `*`, `?` and backslash escapes. */
export function globMatches(glob: string, key: string): boolean {
  let re = globCache.get(glob);
  if (re === undefined) {
    let source = '';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i] as string;
      if (c === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i] as string);
      else if (c === '*') source += '[\\s\\S]*';
      else if (c === '?') source += '[\\s\\S]';
      else source += escapeRegExp(c);
    }
    re = new RegExp(`^${source}$`);
    globCache.set(glob, re);
  }
  return re.test(key);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
