import type { ColumnTypes } from './column-type.js';

/**
 * Everything read for one key, from both sides, as plain values. The edges (cache readers,
 * source loaders) fill this in; the core judges it without doing any I/O.
 */
/** One member of a sorted set with its score as Redis spells it (`10`, `1.5`, `inf`, `-inf`). */
export interface ScoredMember {
  member: Buffer;
  score: string;
}

/**
 * A cached value: a Buffer for strings, a field map for hashes, the elements in Redis order for
 * lists and sets (LRANGE, SMEMBERS), the members in score order for sorted sets (ZRANGE WITHSCORES).
 */
export type CacheValue = Buffer | Readonly<Record<string, Buffer>> | readonly Buffer[] | readonly ScoredMember[];

export type CacheRead =
  /** The key existed. */
  | { kind: 'present'; redisType: string; value: CacheValue; pttlMs: number }
  /** The key disappeared between sampling and reading (PTTL -2 or nil). */
  | { kind: 'gone' }
  /** Not fetched: STRLEN/HLEN/LLEN/SCARD/ZCARD said it is over the size limit. */
  | { kind: 'too-large'; redisType: string; size: number; unit: 'bytes' | 'fields' | 'elements' }
  | { kind: 'error'; message: string };

export type SourceRead =
  /** `columns`: the source's result column types (core/column-type.ts), when the loader knows them. */
  | { kind: 'row'; row: Readonly<Record<string, unknown>>; columns?: ColumnTypes }
  | { kind: 'absent' }
  | { kind: 'error'; message: string; timeout: boolean };

export interface Observation {
  /** Display form of the key: UTF-8 when valid, escaped otherwise. */
  key: string;
  cache: CacheRead;
  source: SourceRead;
  /** The database's clock at load time, epoch ms. Time comparisons use it, not the host's. */
  nowMs: number;
  /**
   * Replication lag of the replicas read (Redis and/or the source), ms: what they show may be this
   * much behind their primaries, so it widens the clock-skew tolerance of every time comparison.
   */
  replicaLagMs?: number;
}
