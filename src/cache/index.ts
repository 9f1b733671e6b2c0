import { UsageError } from '../errors.js';
import { redactUrl } from '../util/redact-url.js';
import { createClusterReader } from './redis-cluster.js';
import { createSentinelReader } from './redis-sentinel.js';
import { createRedisReader, type RedisReaderOptions } from './redis-standalone.js';
import type { CacheReader } from './types.js';

export type CacheReaderFactory = (url: string, options: RedisReaderOptions) => Promise<CacheReader>;

/**
 * One factory per URL scheme: adding a topology is adding a file and a line here.
 * `redis://` and `rediss://` (TLS) are standalone servers.
 */
export const CACHE_READERS: Record<string, CacheReaderFactory> = {
  'redis:': createRedisReader,
  'rediss:': createRedisReader,
  'redis+cluster:': createClusterReader,
  'redis+sentinel:': createSentinelReader,
  'rediss+sentinel:': createSentinelReader,
};

/** A ready reader for the --redis URL, or a usage error naming the schemes that are supported. */
export async function createCacheReader(url: string, options: RedisReaderOptions): Promise<CacheReader> {
  const scheme = /^[a-z+]+:/i.exec(url)?.[0].toLowerCase();
  const factory = scheme === undefined ? undefined : CACHE_READERS[scheme];
  if (factory === undefined) {
    throw new UsageError(`--redis ${redactUrl(url)}: expected a URL starting with ${Object.keys(CACHE_READERS).map((s) => `${s}//`).join(', ')}`, {
      hint: 'for example redis://127.0.0.1:6379/0',
    });
  }
  return factory(url, options);
}

export type { CacheReader } from './types.js';
export type { RedisReaderOptions } from './redis-standalone.js';
