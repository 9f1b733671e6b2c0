import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { ConnectionError } from '../errors.js';
import { keyErrorMeaning } from './cluster-redirect.js';
import { formatRanges, mergeRanges, SLOT_COUNT, subtractRanges, Topology, type NodeRole, type Shard } from './cluster-topology.js';
import { parseClusterUrl, type ClusterUrl } from './cluster-url.js';
import { enforceReadOnly } from './read-only.js';
import { describeRedisError as describe, quietReadyCheck, readerForClient, type RedisReaderOptions } from './redis-standalone.js';
import type { CacheReader } from './types.js';

/** What the SCANs of a run listed: the nodes and slot ranges, and whether anything was left out. */
export interface ClusterCoverage {
  readFrom: 'master' | 'replica';
  /** How many scans (one per family) ran or started. */
  scans: number;
  /** Every node scanned, in slot order. With readFrom replica, role 'master' marks a shard read from its master (no replica reachable). */
  nodes: ClusterNodeCoverage[];
  /** True when every scan so far listed all 16384 slots to the end. */
  complete: boolean;
  /** The slot ranges some scan did not list (a node lost mid-scan, a scan cut short); absent when complete. */
  missing?: string;
}

export interface ClusterNodeCoverage {
  /** host:port, as the cluster announces it. */
  address: string;
  role: NodeRole;
  /** The slot ranges it was scanned for, e.g. `0-5460`. */
  slots: string;
  /** Its SCAN ran to the end (cursor 0) every time it was used. */
  complete: boolean;
}

/** A CacheReader over a Redis Cluster, which also tells what its scans covered. */
export interface ClusterCacheReader extends CacheReader {
  coverage(): ClusterCoverage;
}

/** MOVED hops per key before it becomes an error read (error/cache-error). */
const MAX_REDIRECTS = 5;
/** Rounds of a batch's read before what is left becomes error reads, whatever the cause. */
const MAX_ROUNDS = 12;
/** How often the slot map is polled while waiting for a replica to take over a lost master. */
const FAILOVER_POLL_MS = 200;
/** A slot map younger than this is good enough to route around a node already known to be down. */
const ROUTE_REFRESH_MS = 1000;
/** A node marked down is tried again after this long (it may have been a blip, or restarted). */
const DOWN_RECHECK_MS = 10_000;

/**
 * Connects to a Redis Cluster through its seed nodes (`redis+cluster://[user:pass@]h:p,h:p/`)
 * and returns a ready reader. ioredis' Cluster discovers the topology (CLUSTER SLOTS) and
 * re-reads it on demand; SCAN and reads go to per-node connections the reader owns, so that a
 * batch spanning many slots is one pipeline per node, and redirections are handled key by key.
 * Fails fast with a ConnectionError (exit 3) when no seed answers or some slot has no master.
 */
export async function createClusterReader(url: string, options: RedisReaderOptions): Promise<ClusterCacheReader> {
  const parsed = parseClusterUrl(url);
  const refreshTimeoutMs = Math.max(options.timeoutMs, 1000);
  const cluster = enforceReadOnly(
    new Cluster(parsed.seeds, {
      lazyConnect: true,
      // The reader checks the slot map itself: a ready check failure would only say "None of
      // startup nodes is available" after a reconnect loop.
      enableReadyCheck: false,
      clusterRetryStrategy: () => null,
      // Refreshed on demand (MOVED, a lost node), not on a timer.
      slotsRefreshInterval: 0,
      slotsRefreshTimeout: refreshTimeoutMs,
      scaleReads: 'master',
      redisOptions: nodeOptions(parsed, options.timeoutMs),
    }),
  );
  // The Cluster's own node connections (CLUSTER SLOTS) run ioredis' ready check: quietly (no
  // console.warn when the ACL user may not run INFO). '+node' comes before a node connects.
  cluster.on('+node', (node: Redis) => quietReadyCheck(node));
  // The last node error says why (refused, WRONGPASS, cluster support disabled); the connect
  // promise itself only says that no startup node was available.
  let lastError: unknown;
  cluster.on('error', (error: unknown) => {
    lastError = (error as { lastNodeError?: unknown }).lastNodeError ?? error;
  });
  cluster.on('node error', (error: unknown) => {
    lastError = error;
  });
  try {
    await withTimeout(cluster.connect(), refreshTimeoutMs * parsed.seeds.length + 1000);
  } catch (error) {
    cluster.disconnect();
    // ioredis only says "Connection is closed." for a seed it could not reach: ask each seed why.
    const reasons = await Promise.all(parsed.seeds.map((seed) => probeSeed(seed, parsed, options.timeoutMs)));
    const why = parsed.seeds
      .map((seed, i) => `${seed.host}:${seed.port}: ${reasons[i] ?? describe(lastError ?? error)}`)
      .join('; ');
    throw new ConnectionError(`cannot connect to Redis Cluster at ${parsed.redacted}: no seed node answered CLUSTER SLOTS (${redact(why, parsed)})`, {
      hint: 'check --redis (or SHADOWCHECK_REDIS_URL): redis+cluster://host:port,host:port/ with at least one reachable cluster node',
      cause: error,
    });
  }
  const topology = Topology.fromSlots(cluster.slots);
  const unassigned = topology.unassigned();
  if (unassigned.length > 0) {
    cluster.disconnect();
    throw new ConnectionError(`Redis Cluster at ${parsed.redacted} does not serve every slot: no master for slots ${formatRanges(unassigned)}`, {
      hint: 'check CLUSTER INFO (cluster_state, cluster_slots_assigned) on the nodes',
    });
  }
  return new RedisClusterReader(cluster, parsed, topology, options);
}

/** Why a seed cannot be connected to (refused, timed out, WRONGPASS), or undefined if it answers PING. */
async function probeSeed(seed: { host: string; port: number }, parsed: ClusterUrl, timeoutMs: number): Promise<string | undefined> {
  const probe = quietReadyCheck(enforceReadOnly(new Redis({ ...nodeOptions(parsed, timeoutMs), ...seed, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })));
  let lastError: unknown;
  probe.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await withTimeout(probe.connect().then(() => probe.ping()), Math.max(timeoutMs, 1000) + 500);
    return undefined;
  } catch (error) {
    return describe(lastError ?? error);
  } finally {
    probe.disconnect();
  }
}

function nodeOptions(parsed: ClusterUrl, timeoutMs: number): RedisOptions {
  return {
    ...(parsed.username === undefined ? {} : { username: parsed.username }),
    ...(parsed.password === undefined ? {} : { password: parsed.password }),
    connectTimeout: Math.max(timeoutMs, 1000),
    maxRetriesPerRequest: 1,
    connectionName: undefined,
  };
}

interface ScanRecord {
  nodes: (ClusterNodeCoverage & { ranges: readonly (readonly [number, number])[] })[];
  finished: boolean;
}

/** One key of a read batch on its way to the node that holds it. */
interface Pending {
  index: number;
  key: Buffer;
  slot: number;
  /** MOVED hops so far. */
  redirects: number;
  /** This round's MOVED reply: its target, and the node that sent it (for a slot map that lags). */
  moved?: { from: string; to: string };
  /** This round said "come back later" (CLUSTERDOWN, TRYAGAIN, ASK...). */
  retry?: boolean;
  /** This round could not reach this node; `dropped` when a working connection failed (worth one reconnect). */
  unreachable?: Route & { dropped: boolean };
  /** The last redirect or failure, for the error read should the key never be read. */
  last?: string;
}

/** A node's own connection and the standalone reader (pipelined path) around it. */
interface NodeReader {
  client: Redis;
  reader: CacheReader;
}

interface Route {
  address: string;
  role: NodeRole;
}

/** The node could not be connected to. */
class NodeUnreachable extends Error {
  override readonly name = 'NodeUnreachable';
}

class RedisClusterReader implements ClusterCacheReader {
  private topology: Topology;
  private refreshing: Promise<Topology> | undefined;
  private refreshedAt = Date.now();
  private readonly nodes = new Map<string, Promise<NodeReader>>();
  /** Nodes that refused a connection or stopped answering: why, and when (the mark expires). */
  private readonly down = new Map<string, { why: string; at: number }>();
  private readonly failoverWaits = new Map<string, Promise<void>>();
  private readonly scans: ScanRecord[] = [];
  private readonly readFrom: 'master' | 'replica';
  private readonly timeoutMs: number;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly url: ClusterUrl,
    topology: Topology,
    options: RedisReaderOptions,
  ) {
    this.topology = topology;
    this.readFrom = options.readFrom ?? 'master';
    this.timeoutMs = options.timeoutMs;
  }

  /** The redacted URL; reading from replicas, it says so, and which slots are read from masters. */
  get target(): string {
    if (this.readFrom !== 'replica') return this.url.redacted;
    const fromMasters = this.topology.shards.filter((shard) => this.readNode(shard)?.role === 'master');
    if (fromMasters.length === 0) return `${this.url.redacted} (read from replicas)`;
    const slots = formatRanges(mergeRanges(fromMasters.flatMap((s) => s.ranges)));
    return `${this.url.redacted} (read from replicas; from masters for slots ${slots}: no replica reachable)`;
  }

  coverage(): ClusterCoverage {
    const byNode = new Map<string, { address: string; role: NodeRole; ranges: [number, number][]; complete: boolean }>();
    const missing: [number, number][] = [];
    for (const scan of this.scans) {
      for (const node of scan.nodes) {
        const key = `${node.role}@${node.address}`;
        const entry = byNode.get(key) ?? { address: node.address, role: node.role, ranges: [], complete: true };
        entry.ranges = mergeRanges([...entry.ranges, ...node.ranges]);
        entry.complete &&= node.complete;
        byNode.set(key, entry);
      }
      if (!scan.finished) {
        const listed = mergeRanges(scan.nodes.filter((n) => n.complete).flatMap((n) => n.ranges));
        missing.push(...subtractRanges([[0, SLOT_COUNT - 1]], listed));
      }
    }
    const nodes = [...byNode.values()]
      .sort((a, b) => (a.ranges[0]?.[0] ?? 0) - (b.ranges[0]?.[0] ?? 0))
      .map(({ address, role, ranges, complete }) => ({ address, role, slots: formatRanges(ranges), complete }));
    const complete = this.scans.every((s) => s.finished);
    return {
      readFrom: this.readFrom,
      scans: this.scans.length,
      nodes,
      complete,
      ...(complete ? {} : { missing: formatRanges(mergeRanges(missing)) }),
    };
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
    const plan = this.topology.shards.map((shard) => shard.ranges);
    for (const ranges of plan) {
      const firstSlot = (ranges[0] as readonly [number, number])[0];
      for (;;) {
        const node = await this.scanNode(firstSlot);
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
          this.markDown(node.address, why);
          this.forget(node);
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

  /** A connected node to SCAN the shard of `slot` on, waiting once for a failover if none answers. */
  private async scanNode(slot: number): Promise<Route & NodeReader> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.refresh(ROUTE_REFRESH_MS);
      const shard = this.topology.shardOf(slot);
      if (shard === undefined) throw new ConnectionError(`Redis Cluster at ${this.url.redacted}: no master serves slot ${slot}`);
      for (const candidate of this.candidates(shard)) {
        if (this.isDown(candidate.address)) continue;
        try {
          return { ...candidate, ...(await this.node(candidate.address, candidate.role)) };
        } catch (error) {
          this.markDown(candidate.address, describe(error));
        }
      }
      if (attempt > 0 && this.failoverWaits.has(shard.master)) {
        throw new ConnectionError(
          `cannot list the keys of slots ${formatRanges(shard.ranges)}: Redis Cluster node ${shard.master} is unreachable ` +
            `(${redact(this.down.get(shard.master)?.why ?? 'no answer', this.url)}) and no replica took over`,
        );
      }
      await this.waitForFailover(shard.master);
    }
  }

  /**
   * Reads a batch: keys are grouped by the node serving their slot, and each group is read by the
   * standalone reader's pipelined path on that node (one pipeline per node: an EVAL_RO over keys
   * of several slots fails with CROSSSLOT). Per key: MOVED re-reads the slot map and retries where
   * the slot now lives (at most MAX_REDIRECTS hops); CLUSTERDOWN, TRYAGAIN, LOADING and ASK (a
   * slot in migration: ASKING is not sent) retry after a pause for up to `timeoutMs`. A node that
   * cannot be reached is given `timeoutMs`, once, for a replica to take over its slots; its keys
   * are then read on the new master (or the shard's other nodes), or become error reads. Each key
   * gets exactly one CacheRead. A cluster still down (CLUSTERDOWN) after `timeoutMs` ends the audit.
   */
  async read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    const results = new Array<CacheRead>(keys.length);
    let pending: Pending[] = keys.map((key, index) => ({ index, key, slot: calculateSlot(key), redirects: 0 }));
    const deadline = Date.now() + this.timeoutMs;
    let pause = 50;
    for (let round = 1; pending.length > 0; round++) {
      const groups = new Map<string, { route: Route; items: Pending[] }>();
      const again: Pending[] = [];
      for (const item of pending) {
        const route = await this.route(item);
        item.moved = undefined;
        item.retry = false;
        item.unreachable = undefined;
        if ('error' in route) {
          results[item.index] = { kind: 'error', message: route.error };
        } else if ('unreachable' in route) {
          item.unreachable = { address: route.unreachable, role: 'master', dropped: false };
          again.push(item);
        } else {
          const key = `${route.role}@${route.address}`;
          const group = groups.get(key) ?? { route, items: [] };
          group.items.push(item);
          groups.set(key, group);
        }
      }
      await Promise.all([...groups.values()].map((group) => this.readGroup(group.route, group.items, type, maxValueBytes, results, again)));
      if (again.length === 0) break;

      if (again.some((item) => item.moved !== undefined)) await this.refresh(0);
      const lost = new Map(again.flatMap((item) => (item.unreachable === undefined ? [] : [[`${item.unreachable.role}@${item.unreachable.address}`, item.unreachable] as const])));
      await Promise.all([...lost.values()].map((node) => this.recover(node)));
      const expired = Date.now() >= deadline;
      if (expired) {
        const down = again.find((item) => item.retry === true && item.last?.startsWith('CLUSTERDOWN') === true);
        if (down !== undefined) throw new ConnectionError(`Redis Cluster at ${this.url.redacted} is down: ${down.last ?? 'CLUSTERDOWN'} (for over ${this.timeoutMs} ms)`);
      } else if (again.some((item) => item.retry === true)) {
        await sleep(pause);
        pause = Math.min(pause * 2, 1000);
      }
      pending = [];
      for (const item of again) {
        const stuck =
          round >= MAX_ROUNDS ||
          item.redirects > MAX_REDIRECTS ||
          (item.retry === true && expired) ||
          // Still nowhere to read it from, after waiting for a failover.
          (item.unreachable !== undefined && this.routable(item.slot) === undefined);
        if (stuck) results[item.index] = { kind: 'error', message: this.stuckMessage(item, round) };
        else pending.push(item);
      }
    }
    return results;
  }

  /** Reads one node's group; keys to try again (redirected, or their node lost) go to `again`. */
  private async readGroup(
    route: Route,
    items: Pending[],
    type: RedisValueType,
    maxValueBytes: number,
    results: CacheRead[],
    again: Pending[],
  ): Promise<void> {
    let reads: CacheRead[];
    try {
      const node = await this.node(route.address, route.role);
      try {
        reads = await node.reader.read(
          items.map((item) => item.key),
          type,
          maxValueBytes,
        );
      } catch (error) {
        this.forget(node);
        throw error;
      }
    } catch (error) {
      if (!(error instanceof NodeUnreachable || error instanceof ConnectionError)) throw error;
      const why = describe(causeOf(error));
      this.markDown(route.address, why);
      // A connection that failed under the read, or was reset while being made, may have been a
      // blip: worth one reconnect. One refused or never answered is not.
      const dropped = error instanceof ConnectionError || /ECONNRESET|EPIPE/.test(why);
      for (const item of items) {
        item.unreachable = { ...route, dropped };
        item.last = why;
        again.push(item);
      }
      return;
    }
    let answered = false;
    reads.forEach((read, n) => {
      const item = items[n] as Pending;
      if (read.kind !== 'error') {
        answered = true;
        results[item.index] = read;
        return;
      }
      const meaning = keyErrorMeaning(read.message, route.address);
      item.last = meaning.message;
      if (meaning.kind === 'error') {
        results[item.index] = read;
        return;
      }
      if (meaning.kind === 'moved') {
        item.redirects++;
        item.moved = { from: route.address, to: meaning.address };
      } else if (meaning.kind === 'lost') {
        this.markDown(route.address, meaning.message);
        item.unreachable = { ...route, dropped: true };
      } else {
        // Come back later. For ASK (the key already moved to a slot's importing node), reading
        // it there needs ASKING, which is not a read command: the key is read once the
        // migration ends and the slot answers MOVED.
        if (meaning.kind === 'ask') item.last = `${meaning.message} (slot ${item.slot} is migrating; shadowcheck does not send ASKING)`;
        item.retry = true;
      }
      again.push(item);
    });
    if (answered) this.healthy(route.address);
  }

  /** Where to send a key: the MOVED target while the slot map lags, else the node serving its slot. */
  private async route(item: Pending): Promise<Route | { unreachable: string } | { error: string }> {
    let shard = this.topology.shardOf(item.slot);
    // Every node of the shard is known to be down: a slot map at most a second old may show who took over.
    if (shard !== undefined && this.readNode(shard) === undefined) {
      await this.refresh(ROUTE_REFRESH_MS);
      shard = this.topology.shardOf(item.slot);
    }
    if (shard === undefined) return { error: `no Redis Cluster master serves slot ${item.slot}` };
    if (item.moved !== undefined && shard.master === item.moved.from) return { address: item.moved.to, role: 'master' };
    return this.readNode(shard) ?? { unreachable: shard.master };
  }

  /** The node a slot would be read from now, if any is not known to be down. */
  private routable(slot: number): Route | undefined {
    const shard = this.topology.shardOf(slot);
    return shard === undefined ? undefined : this.readNode(shard);
  }

  private stuckMessage(item: Pending, round: number): string {
    if (item.unreachable !== undefined) {
      const { address } = item.unreachable;
      const shard = this.topology.shardOf(item.slot);
      const slots = shard === undefined ? `slot ${item.slot}` : `slots ${formatRanges(shard.ranges)}`;
      const why = item.last ?? this.down.get(address)?.why ?? 'no answer';
      return `Redis Cluster node ${address} (${slots}) is unreachable and no replica took over: ${redact(why, this.url)}`;
    }
    if (item.redirects > MAX_REDIRECTS) return `still redirected after ${MAX_REDIRECTS} hops (last: ${item.last ?? '?'})`;
    if (round >= MAX_ROUNDS) return `still not read after ${round} attempts (last: ${item.last ?? '?'})`;
    return `could not be read within ${this.timeoutMs} ms: ${item.last ?? 'no answer'}`;
  }

  /** Nodes that may serve a shard's reads, in order of preference. */
  private candidates(shard: Shard): Route[] {
    const master: Route = { address: shard.master, role: 'master' };
    if (this.readFrom !== 'replica') return [master];
    return [...shard.replicas.map((address): Route => ({ address, role: 'replica' })), master];
  }

  /** The node to read a shard from now: the first candidate not known to be down. */
  private readNode(shard: Shard): Route | undefined {
    return this.candidates(shard).find((c) => !this.isDown(c.address));
  }

  private isDown(address: string): boolean {
    const mark = this.down.get(address);
    return mark !== undefined && Date.now() - mark.at < DOWN_RECHECK_MS;
  }

  private markDown(address: string, why: string): void {
    this.down.set(address, { why, at: Date.now() });
  }

  /** The node answered: forget that it was down, and wait for a failover again should it fail later. */
  private healthy(address: string): void {
    this.down.delete(address);
    this.failoverWaits.delete(address);
  }

  /**
   * After a node failed a read: if a working connection dropped, connect again at once (a blip);
   * if that fails too, or the node could not be connected to, wait for a failover (once per node).
   */
  private async recover(node: Route & { dropped: boolean }): Promise<void> {
    if (node.dropped && (await this.reconnect(node))) return;
    await this.waitForFailover(node.address);
  }

  /** Whether a fresh connection to the node can be made now; marks it healthy or down accordingly. */
  private async reconnect(node: Route): Promise<boolean> {
    try {
      await this.node(node.address, node.role);
      this.healthy(node.address);
      return true;
    } catch (error) {
      this.markDown(node.address, describe(error));
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
          if (!this.topology.shards.some((shard) => shard.master === address)) return;
          if (Date.now() >= deadline || this.closed) break;
          await sleep(FAILOVER_POLL_MS);
        }
        if (!this.closed) await this.reconnect({ address, role: 'master' });
      })();
      this.failoverWaits.set(address, wait);
    }
    return wait;
  }

  /** Re-reads the slot map (CLUSTER SLOTS) unless it is younger than `maxAgeMs`; concurrent calls share one. */
  private async refresh(maxAgeMs: number): Promise<Topology> {
    if (this.refreshing === undefined && Date.now() - this.refreshedAt < maxAgeMs) return this.topology;
    this.refreshing ??= (async () => {
      try {
        await withTimeout(
          new Promise<void>((resolve, reject) => this.cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve()))),
          Math.max(this.timeoutMs, 1000) * 2,
        );
        this.topology = Topology.fromSlots(this.cluster.slots);
      } catch {
        // No node answered CLUSTER SLOTS: keep routing by the last map; the reads will say why.
      } finally {
        this.refreshedAt = Date.now();
        this.refreshing = undefined;
      }
      return this.topology;
    })();
    return this.refreshing;
  }

  /** Sum of DBSIZE over the masters. */
  async size(): Promise<number> {
    const sizes = await Promise.all(
      this.topology.shards.map(async (shard) => {
        let node: NodeReader;
        try {
          node = await this.node(shard.master, 'master');
        } catch (error) {
          throw new ConnectionError(`cannot reach Redis Cluster node ${shard.master}: ${redact(describe(error), this.url)}`, { cause: error });
        }
        return node.reader.size();
      }),
    );
    return sizes.reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    const nodes = await Promise.allSettled([...this.nodes.values()]);
    this.nodes.clear();
    await Promise.all(nodes.map((n) => (n.status === 'fulfilled' ? withTimeout(n.value.reader.close(), 1000).catch(() => n.value.client.disconnect()) : undefined)));
    // The Cluster itself holds only lazy, unconnected node entries: disconnecting opens nothing.
    this.cluster.disconnect();
  }

  /** The reader's own connection to a node (READONLY for a replica), connected, with a standalone reader around it. */
  private node(address: string, role: NodeRole): Promise<NodeReader> {
    const key = `${role}@${address}`;
    const known = this.nodes.get(key);
    if (known !== undefined) return known;
    const connecting = this.connect(address, role);
    this.nodes.set(key, connecting);
    connecting.then(
      // A connection that ends is forgotten, so that a later attempt connects again.
      ({ client }) => client.once('end', () => this.nodes.get(key) === connecting && this.nodes.delete(key)),
      () => this.nodes.get(key) === connecting && this.nodes.delete(key),
    );
    return connecting;
  }

  /** Drops a node's connection after it failed, so that the next use connects afresh. */
  private forget(node: NodeReader): void {
    for (const [key, entry] of this.nodes) {
      void entry.then((n) => {
        if (n === node && this.nodes.get(key) === entry) this.nodes.delete(key);
      }, () => undefined);
    }
    node.client.disconnect();
  }

  private async connect(address: string, role: NodeRole): Promise<NodeReader> {
    if (this.closed) throw new NodeUnreachable('the reader is closed');
    const colon = address.lastIndexOf(':');
    const client = quietReadyCheck(
      enforceReadOnly(
        new Redis({
          ...nodeOptions(this.url, this.timeoutMs),
          host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
          port: Number(address.slice(colon + 1)),
          lazyConnect: true,
          // READONLY on connect: a replica then serves reads of its master's slots.
          readOnly: role === 'replica',
          // A lost node stays lost: the slot map, not a reconnect loop, says where its slots went.
          retryStrategy: () => null,
          enableOfflineQueue: true,
          // Waits for a node still loading its data; silent when the ACL user may not run INFO.
          enableReadyCheck: true,
        }),
      ),
    );
    let lastError: unknown;
    client.on('error', (error: unknown) => {
      lastError = error;
    });
    try {
      await withTimeout(client.connect(), Math.max(this.timeoutMs, 1000) + 500);
    } catch (error) {
      client.disconnect();
      throw new NodeUnreachable(redact(describe(lastError ?? error), this.url), { cause: error });
    }
    // Pipelines, not the batch script: EVAL_RO over keys of several slots fails with CROSSSLOT,
    // and one script per slot is slower than one pipeline per node (see the cluster tests).
    return { client, reader: readerForClient(client, address, { timeoutMs: this.timeoutMs, readScript: false }) };
  }
}

/** A ConnectionError from the standalone reader wraps the driver's error: that one says why. */
function causeOf(error: unknown): unknown {
  return error instanceof ConnectionError && error.cause !== undefined ? error.cause : error;
}

/** Rejects when `work` has not settled within `ms`. */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Masks the URL's password in a driver message, should one ever echo it. */
function redact(text: string, url: ClusterUrl): string {
  return url.password === undefined || url.password === '' ? text : text.split(url.password).join('***');
}
