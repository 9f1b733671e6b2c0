/**
 * The Redis Cluster reader behind the CacheReader interface: SCAN shard by shard, reads handed to
 * the batch reader, DBSIZE summed over the masters, and the coverage of its scans. The work is
 * elsewhere: connections in node-pool.ts, slot map and failover in router.ts, batches in
 * batch-read.ts; this class wires them together and owns the order of a scan.
 */
import type { Cluster } from 'ioredis';
import type { CacheRead } from '../../core/observation.js';
import type { RedisValueType } from '../../core/rule.js';
import { ConnectionError } from '../../errors.js';
import { formatRanges, mergeRanges, type Shard as TopologyShard, type Topology } from './topology.js';
import type { ClusterUrl } from './url.js';
import { describeRedisError as describe, type RedisReaderOptions } from '../redis-standalone.js';
import { ClusterBatchReader } from './batch-read.js';
import { summarizeCoverage, type ClusterCacheReader, type ClusterCoverage, type ScanRecord } from './coverage.js';
import { causeOf, redact } from './failures.js';
import { NodePool, type NodeReader } from './node-pool.js';
import { ClusterRouter } from './router.js';
import { clusterRandomKeys } from './random-keys.js';

export class RedisClusterReader implements ClusterCacheReader {
  private readonly pool: NodePool;
  private readonly router: ClusterRouter;
  private readonly batches: ClusterBatchReader;
  private readonly scans: ScanRecord[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly url: ClusterUrl,
    topology: Topology,
    options: RedisReaderOptions,
  ) {
    this.pool = new NodePool(url, options.timeoutMs, options.readFrom ?? 'master');
    this.router = new ClusterRouter(cluster, url, topology, this.pool, options.timeoutMs);
    this.batches = new ClusterBatchReader(this.router, this.pool, url, options.timeoutMs);
  }

  /** The redacted URL; reading from replicas, it says so, and which slots are read from masters. */
  get target(): string {
    if (this.pool.readFrom !== 'replica') return this.url.redacted;
    const fromMasters = this.router.topology.shards.filter((shard) => this.pool.readNode(shard)?.role === 'master');
    if (fromMasters.length === 0) return `${this.url.redacted} (read from replicas)`;
    const slots = formatRanges(mergeRanges(fromMasters.flatMap((s) => s.ranges)));
    return `${this.url.redacted} (read from replicas; from masters for slots ${slots}: no replica reachable)`;
  }

  coverage(): ClusterCoverage {
    return summarizeCoverage(this.scans, this.pool.readFrom);
  }

  /**
   * SCANs each shard in slot order, on its master (or, reading from replicas, on one replica,
   * else the master), yielding keys node by node. The shards to list are fixed when the scan
   * starts; each is resolved to a node at its turn, so a failover that completed meanwhile is
   * followed. A node lost after some of its keys were yielded ends the scan with a
   * ConnectionError: a SCAN cursor means nothing on another node, and listing the shard again
   * would report keys twice. (One lost before it yielded anything is replaced, as at its turn.)
   */
  async *scan(glob: string, count: number, beforeCommand?: () => Promise<void>): AsyncIterable<Buffer[]> {
    const record: ScanRecord = { nodes: [], finished: false };
    this.scans.push(record);
    const plan = this.shardsToRead().map((shard) => shard.ranges);
    for (const ranges of plan) {
      const firstSlot = (ranges[0] as readonly [number, number])[0];
      for (;;) {
        const node = await this.router.scanNode(firstSlot);
        const entry = { address: node.address, role: node.role, slots: formatRanges(ranges), complete: false, ranges };
        record.nodes.push(entry);
        let yielded = false;
        try {
          for await (const keys of node.reader.scan(glob, count, beforeCommand)) {
            yielded = true;
            yield keys;
          }
          entry.complete = true;
          break;
        } catch (error) {
          const why = describe(causeOf(error)).replace(/\.$/, '');
          this.pool.markDown(node.address, why);
          this.pool.forget(node);
          if (yielded) {
            throw new ConnectionError(
              `lost Redis Cluster node ${node.address} (${node.role} of slots ${entry.slots}) while scanning it: ${redact(why, this.url)}; ` +
                'the keys it holds could not all be listed',
              { cause: error },
            );
          }
          record.nodes.pop();
        }
      }
    }
    record.finished = true;
  }

  /** See ClusterBatchReader.read: one pipeline per node, redirects and failovers followed key by key. */
  read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    return this.batches.read(keys, type, maxValueBytes);
  }

  /** See ClusterBatchReader.exists: EXISTS routed by slot, one pipeline per node, MOVED followed; one boolean per key. */
  exists(keys: readonly Buffer[]): Promise<boolean[]> {
    return this.batches.exists(keys);
  }

  /**
   * `count` RANDOMKEY calls spread over the masters (reading from replicas: the node each shard is
   * scanned on) in proportion to their DBSIZE; see random-keys.ts. Each node is resolved as a scan
   * resolves it, so a failover that completed is followed and a lost node waited for once.
   */
  async randomKeys(count: number, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
    const nodes = await Promise.all(this.shardsToRead().map((shard) => this.router.scanNode((shard.ranges[0] as readonly [number, number])[0])));
    return clusterRandomKeys(nodes, count, this.url, beforeCommand);
  }

  /** Sum of DBSIZE over the masters. */
  async size(): Promise<number> {
    const sizes = await Promise.all(
      this.router.topology.shards.map(async (shard) => {
        let node: NodeReader;
        try {
          node = await this.pool.node(shard.master, 'master');
        } catch (error) {
          throw new ConnectionError(`cannot reach Redis Cluster node ${shard.master}: ${redact(describe(error), this.url)}`, { cause: error });
        }
        return node.reader.size();
      }),
    );
    return sizes.reduce((sum, n) => sum + n, 0);
  }

  /** The shards this reader lists and samples, in slot order. */
  private shardsToRead(): readonly TopologyShard[] {
    return this.router.topology.shards;
  }

  async close(): Promise<void> {
    await this.pool.close();
    // The Cluster itself holds only lazy, unconnected node entries: disconnecting opens nothing.
    this.cluster.disconnect();
  }
}
