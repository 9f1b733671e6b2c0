/**
 * The cluster reader's node pool: its own connection per node and role (READONLY for a replica),
 * opened on first use, dropped when it fails or ends, closed with the reader; and which nodes are
 * known to be down, so that a shard is read from the first of its nodes that is not. Like ioredis'
 * ConnectionPool, it knows nothing of slots: routing (router.ts) asks it for nodes.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { enforceReadOnly } from '../read-only.js';
import { describeRedisError as describe, quietReadyCheck, readerForClient } from '../redis-standalone.js';
import type { ClusterUrl } from './url.js';
import { routeKey, type NodeRole, type Route, type Shard } from './topology.js';
import type { CacheReader } from '../types.js';
import { NodeUnreachable, redact, withTimeout } from './failures.js';

/** A node marked down is tried again after this long (it may have been a blip, or restarted). */
const DOWN_RECHECK_MS = 10_000;

/** A node's own connection and the standalone reader (pipelined path) around it. */
export interface NodeReader {
  client: Redis;
  reader: CacheReader;
}

/** Options of every node connection: the URL's login, and a connect timeout of at least a second. */
export function nodeOptions(parsed: ClusterUrl, timeoutMs: number): RedisOptions {
  return {
    ...(parsed.username === undefined ? {} : { username: parsed.username }),
    ...(parsed.password === undefined ? {} : { password: parsed.password }),
    connectTimeout: Math.max(timeoutMs, 1000),
    maxRetriesPerRequest: 1,
    connectionName: undefined,
  };
}

export class NodePool {
  private readonly nodes = new Map<string, Promise<NodeReader>>();
  /** Nodes that refused a connection or stopped answering: why, and when (the mark expires). */
  private readonly down = new Map<string, { why: string; at: number }>();
  private isClosed = false;

  constructor(
    private readonly url: ClusterUrl,
    private readonly timeoutMs: number,
    readonly readFrom: 'master' | 'replica',
  ) {}

  /** Set by close(): no node is connected any more, and failover waits give up. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Nodes that may serve a shard's reads, in order of preference. */
  candidates(shard: Shard): Route[] {
    const master: Route = { address: shard.master, role: 'master' };
    if (this.readFrom !== 'replica') return [master];
    return [...shard.replicas.map((address): Route => ({ address, role: 'replica' })), master];
  }

  /** The node to read a shard from now: the first candidate not known to be down. */
  readNode(shard: Shard): Route | undefined {
    return this.candidates(shard).find((c) => !this.isDown(c.address));
  }

  isDown(address: string): boolean {
    const mark = this.down.get(address);
    return mark !== undefined && Date.now() - mark.at < DOWN_RECHECK_MS;
  }

  markDown(address: string, why: string): void {
    this.down.set(address, { why, at: Date.now() });
  }

  /** The node answered: it is no longer known to be down. */
  markUp(address: string): void {
    this.down.delete(address);
  }

  /** Why the node was last marked down, if it was. */
  downReason(address: string): string | undefined {
    return this.down.get(address)?.why;
  }

  /** The reader's own connection to a node (READONLY for a replica), connected, with a standalone reader around it. */
  node(address: string, role: NodeRole): Promise<NodeReader> {
    const key = routeKey({ address, role });
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
  forget(node: NodeReader): void {
    for (const [key, entry] of this.nodes) {
      void entry.then((n) => {
        if (n === node && this.nodes.get(key) === entry) this.nodes.delete(key);
      }, () => undefined);
    }
    node.client.disconnect();
  }

  /** Closes every connection (a second's grace each, then cut); later connects are refused. */
  async close(): Promise<void> {
    this.isClosed = true;
    const nodes = await Promise.allSettled([...this.nodes.values()]);
    this.nodes.clear();
    await Promise.all(nodes.map((n) => (n.status === 'fulfilled' ? withTimeout(n.value.reader.close(), 1000).catch(() => n.value.client.disconnect()) : undefined)));
  }

  private async connect(address: string, role: NodeRole): Promise<NodeReader> {
    if (this.isClosed) throw new NodeUnreachable('the reader is closed');
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
