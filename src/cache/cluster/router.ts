/**
 * Routing for the cluster reader: the slot map (re-read on demand, never on a timer), which node a
 * slot is read from now, and what to do when a node is lost: connect again once after a blip, else
 * wait (once per node) for a replica to take over its slots. Like ioredis, a lost node is not
 * reconnected in a loop: the slot map says where its slots went. The connections are the pool's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { ConnectionError } from '../../errors.js';
import { formatRanges, Topology, type Route } from './topology.js';
import type { ClusterUrl } from './url.js';
import { describeRedisError as describe } from '../redis-standalone.js';
import { redact, withTimeout } from './failures.js';
import type { NodePool, NodeReader } from './node-pool.js';

/** How often the slot map is polled while waiting for a replica to take over a lost master. */
const FAILOVER_POLL_MS = 200;
/** A slot map younger than this is good enough to route around a node already known to be down. */
const ROUTE_REFRESH_MS = 1000;

/** Where a key goes: a node, a master known to be down (with no other node to read), or nowhere. */
export type RouteDecision = Route | { unreachable: string } | { error: string };

export class ClusterRouter {
  private current: Topology;
  private refreshing: Promise<Topology> | undefined;
  private refreshedAt = Date.now();
  private readonly failoverWaits = new Map<string, Promise<void>>();

  constructor(
    private readonly cluster: Cluster,
    private readonly url: ClusterUrl,
    topology: Topology,
    private readonly pool: NodePool,
    private readonly timeoutMs: number,
  ) {
    this.current = topology;
  }

  /** The slot map as last read. */
  get topology(): Topology {
    return this.current;
  }

  /** Where to send a key of `slot`: the MOVED target while the slot map lags, else the node serving its slot. */
  async route(slot: number, moved?: { from: string; to: string }): Promise<RouteDecision> {
    let shard = this.current.shardOf(slot);
    // Every node of the shard is known to be down: a slot map at most a second old may show who took over.
    if (shard !== undefined && this.pool.readNode(shard) === undefined) {
      await this.refresh(ROUTE_REFRESH_MS);
      shard = this.current.shardOf(slot);
    }
    if (shard === undefined) return { error: `no Redis Cluster master serves slot ${slot}` };
    if (moved !== undefined && shard.master === moved.from) return { address: moved.to, role: 'master' };
    return this.pool.readNode(shard) ?? { unreachable: shard.master };
  }

  /** The node a slot would be read from now, if any is not known to be down. */
  routable(slot: number): Route | undefined {
    const shard = this.current.shardOf(slot);
    return shard === undefined ? undefined : this.pool.readNode(shard);
  }

  /** A connected node to SCAN the shard of `slot` on, waiting once for a failover if none answers. */
  async scanNode(slot: number): Promise<Route & NodeReader> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.refresh(ROUTE_REFRESH_MS);
      const shard = this.current.shardOf(slot);
      if (shard === undefined) throw new ConnectionError(`Redis Cluster at ${this.url.redacted}: no master serves slot ${slot}`);
      for (const candidate of this.pool.candidates(shard)) {
        if (this.pool.isDown(candidate.address)) continue;
        try {
          return { ...candidate, ...(await this.pool.node(candidate.address, candidate.role)) };
        } catch (error) {
          this.pool.markDown(candidate.address, describe(error));
        }
      }
      if (attempt > 0 && this.failoverWaits.has(shard.master)) {
        throw new ConnectionError(
          `cannot list the keys of slots ${formatRanges(shard.ranges)}: Redis Cluster node ${shard.master} is unreachable ` +
            `(${redact(this.pool.downReason(shard.master) ?? 'no answer', this.url)}) and no replica took over`,
        );
      }
      await this.waitForFailover(shard.master);
    }
  }

  /** The node answered: forget that it was down, and wait for a failover again should it fail later. */
  healthy(address: string): void {
    this.pool.markUp(address);
    this.failoverWaits.delete(address);
  }

  /**
   * After a node failed a read: if a working connection dropped, connect again at once (a blip);
   * if that fails too, or the node could not be connected to, wait for a failover (once per node).
   */
  async recover(node: Route & { dropped: boolean }): Promise<void> {
    if (node.dropped && (await this.reconnect(node))) return;
    await this.waitForFailover(node.address);
  }

  /** Re-reads the slot map (CLUSTER SLOTS) unless it is younger than `maxAgeMs`; concurrent calls share one. */
  async refresh(maxAgeMs: number): Promise<Topology> {
    if (this.refreshing === undefined && Date.now() - this.refreshedAt < maxAgeMs) return this.current;
    this.refreshing ??= (async () => {
      try {
        await withTimeout(
          new Promise<void>((resolve, reject) => this.cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve()))),
          Math.max(this.timeoutMs, 1000) * 2,
        );
        this.current = Topology.fromSlots(this.cluster.slots);
      } catch {
        // No node answered CLUSTER SLOTS: keep routing by the last map; the reads will say why.
      } finally {
        this.refreshedAt = Date.now();
        this.refreshing = undefined;
      }
      return this.current;
    })();
    return this.refreshing;
  }

  /** Whether a fresh connection to the node can be made now; marks it healthy or down accordingly. */
  private async reconnect(node: Route): Promise<boolean> {
    try {
      await this.pool.node(node.address, node.role);
      this.healthy(node.address);
      return true;
    } catch (error) {
      this.pool.markDown(node.address, describe(error));
      return false;
    }
  }

  /**
   * Waits, once per node (until it answers again), until the slot map no longer names `address`
   * as a master (a replica took over) or `timeoutMs` passes; then, if no replica took over, tries
   * the node itself once more. Later calls for the same node return at once.
   */
  private waitForFailover(address: string): Promise<void> {
    let wait = this.failoverWaits.get(address);
    if (wait === undefined) {
      wait = (async () => {
        const deadline = Date.now() + this.timeoutMs;
        for (;;) {
          await this.refresh(0);
          if (!this.current.shards.some((shard) => shard.master === address)) return;
          if (Date.now() >= deadline || this.pool.closed) break;
          await sleep(FAILOVER_POLL_MS);
        }
        if (!this.pool.closed) await this.reconnect({ address, role: 'master' });
      })();
      this.failoverWaits.set(address, wait);
    }
    return wait;
  }
}
