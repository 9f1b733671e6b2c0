/**
 * The entry to the Redis Cluster reader: `createClusterReader` connects through the seed nodes,
 * checks that every slot has a master, and says why no seed answered when none does. The reader
 * itself is in cluster/: cluster-reader.ts (the CacheReader), node-pool.ts (connections per node),
 * router.ts (slot map, failover), batch-read.ts and pending-keys.ts (reading a batch), coverage.ts.
 */
import { Cluster, Redis } from 'ioredis';
import { ConnectionError } from '../errors.js';
import { RedisClusterReader } from './cluster/cluster-reader.js';
import type { ClusterCacheReader } from './cluster/coverage.js';
import { redact, withTimeout } from './cluster/failures.js';
import { nodeOptions } from './cluster/node-pool.js';
import { formatRanges, Topology } from './cluster/topology.js';
import { parseClusterUrl, type ClusterUrl } from './cluster/url.js';
import { enforceReadOnly } from './read-only.js';
import { describeRedisError as describe, quietReadyCheck, type RedisReaderOptions } from './redis-standalone.js';

export type { ClusterCacheReader, ClusterCoverage, ClusterNodeCoverage } from './cluster/coverage.js';

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
