/**
 * Reading one batch of keys from a Redis Cluster: each round routes every key still pending,
 * reads each node's group with the standalone reader's pipelined path, and sorts the answers into
 * reads that stand and keys to try again (MOVED, come back later, node lost), until every key has
 * exactly one CacheRead. Routing and failover are the router's; connections are the pool's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheRead } from '../../core/observation.js';
import type { RedisValueType } from '../../core/rule.js';
import { ConnectionError } from '../../errors.js';
import { formatRanges, type Route } from './topology.js';
import type { ClusterUrl } from './url.js';
import { describeRedisError as describe } from '../redis-standalone.js';
import { causeOf, NodeUnreachable, redact, withTimeout } from './failures.js';
import type { NodeReader } from './node-pool.js';
import { displayKey } from '../key-name.js';
import type { NodePool } from './node-pool.js';
import { groupByNode, isStuck, lostNodes, MAX_REDIRECTS, MAX_ROUNDS, noteKeyError, pendingKeys, type Pending } from './pending-keys.js';
import type { ClusterRouter } from './router.js';

/** A key's answer that is an error reply (or a lost connection): what a CacheRead error is. */
export interface ErrorAnswer {
  kind: 'error';
  message: string;
}

/** A key's answer to a yes/no or value question other than a read: its value, or an error. */
export type KeyAnswer<T> = { kind: 'value'; value: T } | ErrorAnswer;

/** One node's part of a batch: an answer per key, in order; a lost node throws (NodeUnreachable or ConnectionError). */
type NodeOp<R> = (node: NodeReader, keys: Buffer[]) => Promise<(R | ErrorAnswer)[]>;

function isErrorAnswer(answer: { kind: string }): answer is ErrorAnswer {
  return answer.kind === 'error';
}

/** EXISTS per key on one node, pipelined; a node that does not answer within `timeoutMs` is a lost connection. */
async function existsOnNode(node: NodeReader, keys: Buffer[], timeoutMs: number): Promise<KeyAnswer<boolean>[]> {
  const pipeline = node.client.pipeline();
  for (const key of keys) pipeline.exists(key);
  let replies: [Error | null, unknown][];
  try {
    replies = (await withTimeout(pipeline.exec(), timeoutMs)) ?? [];
  } catch (error) {
    throw new ConnectionError(describe(error), { cause: error });
  }
  return keys.map((_, i) => {
    const [error, count] = replies[i] ?? [new Error('Connection is closed.'), undefined];
    return error === null ? { kind: 'value', value: count === 1 } : { kind: 'error', message: error.message };
  });
}

export class ClusterBatchReader {
  constructor(
    private readonly router: ClusterRouter,
    private readonly pool: NodePool,
    private readonly url: ClusterUrl,
    private readonly timeoutMs: number,
  ) {}

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
  read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    return this.perKey<CacheRead>(keys, (node, group) => node.reader.read(group, type, maxValueBytes));
  }

  /**
   * EXISTS for each key, routed, grouped and retried exactly as `read` is (one pipeline per node,
   * MOVED followed, a failover waited for). A key that still cannot be asked about ends the call
   * with a ConnectionError: "absent" is an answer about the cache, and a node that did not answer
   * gave none.
   */
  async exists(keys: readonly Buffer[]): Promise<boolean[]> {
    const answers = await this.perKey<KeyAnswer<boolean>>(keys, (node, group) => existsOnNode(node, group, this.timeoutMs));
    return answers.map((answer, i) => {
      if (answer.kind === 'error') {
        throw new ConnectionError(`Redis Cluster at ${this.url.redacted}: EXISTS ${displayKey(keys[i] as Buffer)} failed: ${answer.message}`);
      }
      return answer.value;
    });
  }

  /** Runs a per-node operation over a batch of keys: one answer per key, in order (see read). */
  private async perKey<R extends { kind: string }>(keys: readonly Buffer[], op: NodeOp<R>): Promise<(R | ErrorAnswer)[]> {
    const results = new Array<R | ErrorAnswer>(keys.length);
    let pending = pendingKeys(keys);
    const deadline = Date.now() + this.timeoutMs;
    let pause = 50;
    for (let round = 1; pending.length > 0; round++) {
      const routed: { item: Pending; route: Route }[] = [];
      const again: Pending[] = [];
      for (const item of pending) {
        const route = await this.router.route(item.slot, item.moved);
        item.moved = undefined;
        item.retry = false;
        item.unreachable = undefined;
        if ('error' in route) {
          results[item.index] = { kind: 'error', message: route.error };
        } else if ('unreachable' in route) {
          item.unreachable = { address: route.unreachable, role: 'master', dropped: false };
          again.push(item);
        } else {
          routed.push({ item, route });
        }
      }
      await Promise.all(groupByNode(routed).map((group) => this.readGroup(group.route, group.items, op, results, again)));
      if (again.length === 0) break;

      if (again.some((item) => item.moved !== undefined)) await this.router.refresh(0);
      await Promise.all(lostNodes(again).map((node) => this.router.recover(node)));
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
        if (isStuck(item, round, expired, (slot) => this.router.routable(slot) !== undefined)) {
          results[item.index] = { kind: 'error', message: this.stuckMessage(item, round) };
        } else {
          pending.push(item);
        }
      }
    }
    return results;
  }

  /** Reads one node's group; keys to try again (redirected, or their node lost) go to `again`. */
  private async readGroup<R extends { kind: string }>(
    route: Route,
    items: Pending[],
    op: NodeOp<R>,
    results: (R | ErrorAnswer)[],
    again: Pending[],
  ): Promise<void> {
    let reads: (R | ErrorAnswer)[];
    try {
      const node = await this.pool.node(route.address, route.role);
      try {
        reads = await op(
          node,
          items.map((item) => item.key),
        );
      } catch (error) {
        this.pool.forget(node);
        throw error;
      }
    } catch (error) {
      if (!(error instanceof NodeUnreachable || error instanceof ConnectionError)) throw error;
      const why = describe(causeOf(error));
      this.pool.markDown(route.address, why);
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
      if (!isErrorAnswer(read)) {
        answered = true;
        results[item.index] = read;
        return;
      }
      const meaning = noteKeyError(item, read.message, route);
      if (meaning.kind === 'error') {
        results[item.index] = read;
        return;
      }
      if (meaning.kind === 'lost') this.pool.markDown(route.address, meaning.message);
      again.push(item);
    });
    if (answered) this.router.healthy(route.address);
  }

  /** The error read of a key tried enough: why it could not be read. */
  private stuckMessage(item: Pending, round: number): string {
    if (item.unreachable !== undefined) {
      const { address } = item.unreachable;
      const shard = this.router.topology.shardOf(item.slot);
      const slots = shard === undefined ? `slot ${item.slot}` : `slots ${formatRanges(shard.ranges)}`;
      const why = item.last ?? this.pool.downReason(address) ?? 'no answer';
      return `Redis Cluster node ${address} (${slots}) is unreachable and no replica took over: ${redact(why, this.url)}`;
    }
    if (item.redirects > MAX_REDIRECTS) return `still redirected after ${MAX_REDIRECTS} hops (last: ${item.last ?? '?'})`;
    if (round >= MAX_ROUNDS) return `still not read after ${round} attempts (last: ${item.last ?? '?'})`;
    return `could not be read within ${this.timeoutMs} ms: ${item.last ?? 'no answer'}`;
  }
}
