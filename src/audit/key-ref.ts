import type { Shard } from '../core/shard.js';

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
