/**
 * The Redis Cluster reader behind the CacheReader interface: SCAN shard by shard, reads handed to
 * the batch reader, DBSIZE summed over the masters, and the coverage of its scans. The work is
 * elsewhere: connections in node-pool.ts, slot map and failover in router.ts, batches in
 * batch-read.ts; this class wires them together and owns the order of a scan.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { clusterSlotOwners, type Shard as AuditShard } from '../../core/shard.js';
import type { CacheRead } from '../../core/observation.js';
import type { RedisValueType } from '../../core/rule.js';
import { ConnectionError } from '../../errors.js';
import { formatRanges, mergeRanges, SLOT_COUNT, type Route, type Shard as TopologyShard, type Topology } from './topology.js';
import type { ClusterUrl } from './url.js';
import { describeRedisError as describe, type RedisReaderOptions } from '../redis-standalone.js';
import { ClusterBatchReader } from './batch-read.js';
import { summarizeCoverage, type ClusterCacheReader, type ClusterCoverage, type ScanRecord } from './coverage.js';
import { causeOf, redact } from './failures.js';
import { NodePool, type NodeReader } from './node-pool.js';
import { ClusterRouter } from './router.js';
import { clusterRandomKeys } from './random-keys.js';

function slotCount(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
}

export class RedisClusterReader implements ClusterCacheReader {
  private readonly pool: NodePool;
  private readonly router: ClusterRouter;
  private readonly batches: ClusterBatchReader;
  private readonly scans: ScanRecord[] = [];
  /** Set by restrictToShard: the slots this process owns (1 per owned slot) and as ranges. */
  private restriction: { owned: Uint8Array; slots: [number, number][] } | undefined;

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
    return summarizeCoverage(this.scans, this.pool.readFrom, this.restriction?.slots);
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
        const listed = this.ownedPart(ranges);
        const entry = { address: node.address, role: node.role, slots: formatRanges(listed), complete: false, ranges: listed };
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
   * resolves it, so a failover that completed is followed and a lost node waited for once; a node
   * lost mid-way is replaced once.
   */
  async randomKeys(count: number, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
    const targets = await Promise.all(
      this.shardsToRead().map(async (shard) => {
        const firstSlot = (shard.ranges[0] as readonly [number, number])[0];
        return {
          node: await this.router.scanNode(firstSlot),
          replace: async (lost: NodeReader & Route, why: unknown) => {
            this.pool.markDown(lost.address, describe(causeOf(why)));
            this.pool.forget(lost);
            // A blip: connect again at once; else wait (once) for a replica to take over.
            await this.router.recover({ address: lost.address, role: lost.role, dropped: true });
            return this.router.scanNode(firstSlot);
          },
        };
      }),
    );
    return clusterRandomKeys(targets, count, this.url, beforeCommand);
  }

  /**
   * Sum of DBSIZE over the masters. After restrictToShard, over the shard's masters only; a master
   * whose slots are split between shards counts in proportion to the slots this shard owns there
   * (an estimate: keys are spread over slots by hash, but hash tags can skew it).
   */
  async size(): Promise<number> {
    const sizes = await Promise.all(
      this.shardsToRead().map(async (shard) => {
        let node: NodeReader;
        try {
          node = await this.pool.node(shard.master, 'master');
        } catch (error) {
          throw new ConnectionError(`cannot reach Redis Cluster node ${shard.master}: ${redact(describe(error), this.url)}`, { cause: error });
        }
        const keys = await node.reader.size();
        const all = slotCount(shard.ranges);
        const owned = slotCount(this.ownedPart(shard.ranges));
        return owned === all ? keys : Math.round((keys * owned) / all);
      }),
    );
    return sizes.reduce((sum, n) => sum + n, 0);
  }

  /**
   * `--shard i/N` on a Cluster (core/shard.ts clusterShardParts): from now on this reader scans and
   * samples only the masters (or the one master's slot part) shard i owns by the slot map as read
   * now, and the predicate returned says which keys it owns, by slot. The predicate, not the node
   * list, is what keeps the N shards' keys disjoint: should slots move later, a master may be
   * scanned by two shards, but each key is still kept by exactly one.
   */
  restrictToShard(shard: AuditShard): (raw: Buffer) => boolean {
    const owners = clusterSlotOwners(this.router.topology.shards, shard.count);
    const owned = new Uint8Array(SLOT_COUNT);
    const slots: [number, number][] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (owners[slot] !== shard.index) continue;
      owned[slot] = 1;
      const last = slots[slots.length - 1];
      if (last !== undefined && last[1] === slot - 1) last[1] = slot;
      else slots.push([slot, slot]);
    }
    this.restriction = { owned, slots };
    return (raw) => owned[calculateSlot(raw)] === 1;
  }

  /** The shards this reader lists and samples, in slot order. */
  private shardsToRead(): readonly TopologyShard[] {
    const shards = this.router.topology.shards;
    return this.restriction === undefined ? shards : shards.filter((shard) => this.ownedPart(shard.ranges).length > 0);
  }

  /** The part of `ranges` this process owns: all of it unless restrictToShard said otherwise. */
  private ownedPart(ranges: readonly (readonly [number, number])[]): [number, number][] {
    const owned = this.restriction?.owned;
    if (owned === undefined) return ranges.map(([from, to]) => [from, to]);
    const part: [number, number][] = [];
    for (const [from, to] of ranges) {
      for (let slot = from; slot <= to; slot++) {
        if (owned[slot] !== 1) continue;
        const last = part[part.length - 1];
        if (last !== undefined && last[1] === slot - 1) last[1] = slot;
        else part.push([slot, slot]);
      }
    }
    return part;
  }

  async close(): Promise<void> {
    await this.pool.close();
    // The Cluster itself holds only lazy, unconnected node entries: disconnecting opens nothing.
    this.cluster.disconnect();
  }
}
