import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import type { Shard } from '../core/shard.js';

/** Reads a Redis keyspace, read-only. Implementations: standalone now; cluster and sentinel later. */
export interface CacheReader {
  /** Redacted description of the target for reports and logs. */
  readonly target: string;
  /**
   * SCANs with MATCH `glob`, yielding each reply's keys (binary-safe). Duplicates are possible, as
   * SCAN allows. `beforeCommand` is awaited before each SCAN call is sent (--rate counts every call,
   * also those that return no key).
   */
  scan(glob: string, count: number, beforeCommand?: () => Promise<void>): AsyncIterable<Buffer[]>;
  /** Reads one batch: values that fit the size limit, with their PTTL. One CacheRead per key, in order. */
  read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]>;
  /**
   * How many keys the database holds (DBSIZE): an upper bound for progress estimates. On a Cluster
   * after restrictToShard, only the shard's part (see RedisClusterReader.size).
   */
  size(): Promise<number>;
  /**
   * `count` RANDOMKEY calls, pipelined (--sampling random), each awaiting `beforeCommand` per
   * pipeline sent; the keys returned, repeats included, empty replies dropped. On a Cluster the
   * calls are spread over the masters (or the shard's masters) in proportion to their DBSIZE.
   */
  randomKeys?(count: number, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]>;
  /** Whether each key exists (EXISTS, pipelined; routed by slot on a Cluster). One boolean per key, in order. */
  exists?(keys: readonly Buffer[]): Promise<boolean[]>;
  /**
   * `--shard i/N` on a Cluster: limits this reader's scans and random reads to the masters (or slot
   * ranges) shard i owns, and returns which keys it owns, used instead of core/shard.ts ownsKey.
   * Absent on standalone and Sentinel (every shard scans the one node and keeps its slots' keys).
   */
  restrictToShard?(shard: Shard): (raw: Buffer) => boolean;
  /** When reading a replica: how far behind its master it may be, ms; undefined on a master. */
  replicaLagMs?(): Promise<number | undefined>;
  /** Cluster: which nodes and slot ranges the scans covered (reported as `coverage`). */
  coverage?(): CacheCoverage;
  close(): Promise<void>;
}

/** What a Cluster scan covered, for the report. */
export interface CacheCoverage {
  readFrom: 'master' | 'replica';
  scans: number;
  nodes: { address: string; role: 'master' | 'replica'; slots: string; complete: boolean }[];
  complete: boolean;
  missing?: string;
  /** With --shard on a Cluster: the slots the shard owns (absent: all 16384). */
  slots?: string;
}
