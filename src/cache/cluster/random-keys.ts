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

/** `count` RANDOMKEY calls spread over `nodes` by their DBSIZE; the keys returned (repeats kept, empty replies dropped). */
export async function clusterRandomKeys(
  nodes: readonly SampledNode[],
  count: number,
  url: ClusterUrl,
  beforeCommand?: (calls: number) => Promise<void>,
): Promise<Buffer[]> {
  if (count <= 0 || nodes.length === 0) return [];
  const plan = await randomKeyPlan(nodes, count);
  const perNode = await Promise.all(plan.map(({ node, calls }) => nodeRandomKeys(node, calls, url, beforeCommand)));
  return perNode.flat();
}

async function nodeRandomKeys(node: SampledNode, calls: number, url: ClusterUrl, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  for (let sent = 0; sent < calls; ) {
    const n = Math.min(RANDOM_PIPELINE, calls - sent);
    if (beforeCommand !== undefined) await beforeCommand(n);
    const pipeline = node.client.pipeline();
    for (let i = 0; i < n; i++) pipeline.randomkeyBuffer();
    const replies = (await pipeline.exec()) ?? [];
    for (const [error, key] of replies) {
      if (error !== null) {
        throw new ConnectionError(`RANDOMKEY failed on Redis Cluster node ${node.address} (${node.role}): ${redact(describe(error), url)}`, { cause: error });
      }
      if (Buffer.isBuffer(key)) keys.push(key);
    }
    sent += n;
  }
  return keys;
}
