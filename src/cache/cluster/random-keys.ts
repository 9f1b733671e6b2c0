/**
 * RANDOMKEY over a Redis Cluster (--sampling random): each node answers only for its own keys,
 * so a sample that is uniform over the keyspace gives each node calls in proportion to the keys
 * it holds (its DBSIZE, largest-remainder rounding, core/apportion.ts). A node with no keys gets
 * no call. Each node's calls go out in pipelines of at most RANDOM_PIPELINE, the --rate throttle
 * taking the pipeline's calls before it is sent; nodes are sampled concurrently, and their keys
 * returned in node order (slot order), so the order does not depend on which node answered first.
 */
import { apportion } from '../../core/apportion.js';
import { ConnectionError } from '../../errors.js';
import { describeRedisError as describe } from '../redis-standalone.js';
import { redact } from './failures.js';
import { keyErrorMeaning } from './redirect.js';
import type { NodeReader } from './node-pool.js';
import type { Route } from './topology.js';
import type { ClusterUrl } from './url.js';

/** RANDOMKEY calls per pipeline: large enough to amortize the round trip, small enough to keep --rate smooth. */
export const RANDOM_PIPELINE = 1000;

export type SampledNode = Route & NodeReader;

/** How many calls each node gets, from its DBSIZE: what randomKeys sends, exposed for the report and tests. */
export async function randomKeyPlan(nodes: readonly SampledNode[], count: number): Promise<{ node: SampledNode; keys: number; calls: number }[]> {
  const sizes = await Promise.all(nodes.map((node) => node.reader.size()));
  const calls = apportion(count, sizes);
  return nodes.map((node, i) => ({ node, keys: sizes[i] as number, calls: calls[i] as number }));
}

/**
 * A node to sample, and how to replace it should it be lost mid-way (the shard's next node, or the
 * replica promoted in its place): `replace` marks it down and resolves the shard again.
 */
export interface SampledTarget {
  node: SampledNode;
  replace(lost: SampledNode, why: unknown): Promise<SampledNode>;
}

/** `count` RANDOMKEY calls spread over the targets by their DBSIZE; the keys returned (repeats kept, empty replies dropped). */
export async function clusterRandomKeys(
  targets: readonly SampledTarget[],
  count: number,
  url: ClusterUrl,
  beforeCommand?: (calls: number) => Promise<void>,
): Promise<Buffer[]> {
  if (count <= 0 || targets.length === 0) return [];
  const plan = await randomKeyPlan(
    targets.map((t) => t.node),
    count,
  );
  const perNode = await Promise.all(plan.map(({ calls }, i) => nodeRandomKeys(targets[i] as SampledTarget, calls, url, beforeCommand)));
  return perNode.flat();
}

/**
 * One node's share, pipeline by pipeline. A pipeline lost with its connection is sent again, once,
 * to the node that replaces it (each RANDOMKEY stands alone, so nothing is counted twice); a second
 * loss, or an error reply from the server (an ACL without RANDOMKEY, say), ends the call.
 */
async function nodeRandomKeys(target: SampledTarget, calls: number, url: ClusterUrl, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  let node = target.node;
  let replaced = false;
  for (let sent = 0; sent < calls; ) {
    const n = Math.min(RANDOM_PIPELINE, calls - sent);
    if (beforeCommand !== undefined) await beforeCommand(n);
    const pipeline = node.client.pipeline();
    for (let i = 0; i < n; i++) pipeline.randomkeyBuffer();
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (error) {
      replies = [[error instanceof Error ? error : new Error(String(error)), null]];
    }
    const failure = replies.find(([error]) => error !== null)?.[0];
    if (failure !== undefined && failure !== null) {
      if (!replaced && keyErrorMeaning(failure.message, node.address).kind === 'lost') {
        replaced = true;
        node = await target.replace(node, failure);
        continue;
      }
      throw new ConnectionError(`RANDOMKEY failed on Redis Cluster node ${node.address} (${node.role}): ${redact(describe(failure), url)}`, { cause: failure });
    }
    for (const [, key] of replies) if (Buffer.isBuffer(key)) keys.push(key);
    sent += n;
  }
  return keys;
}
