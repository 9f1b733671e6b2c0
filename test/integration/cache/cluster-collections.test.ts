/**
 * Lists, sets and sorted sets through the Redis Cluster reader: keys of many slots in one batch,
 * grouped by node, read on masters and (READONLY) on replicas. A cluster of 3 masters with one
 * replica each, started by this file on free loopback ports and killed in afterAll.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterReader, type ClusterCacheReader } from '../../../src/cache/redis-cluster.js';
import type { CacheRead, ScoredMember } from '../../../src/core/observation.js';
import { commandCalls, startCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis.js';

const LIMIT = 64 * 1024;
const lists = Array.from({ length: 30 }, (_, i) => `cc:list:${i}`);
let cluster: TestCluster;
const readers: ClusterCacheReader[] = [];

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1 });
  const admin = cluster.admin;
  for (const [i, name] of lists.entries()) {
    await admin.rpush(name, `${i}`, Buffer.from([0xff, i]), 'tail');
    await admin.expire(name, 600);
  }
  await admin.sadd('cc:set', 'a', 'b', 'c');
  await admin.zadd('cc:zset', '1.5', 'x y', 'inf', 'top', '-inf', 'bottom');
  await admin.rpush('cc:long', ...Array.from({ length: LIMIT / 64 + 1 }, (_, i) => String(i)));
  await admin.set('cc:string', 'text');
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(readers.map((r) => r.close()));
  await cluster?.stop();
});

async function reader(readFrom: 'master' | 'replica'): Promise<ClusterCacheReader> {
  const r = await createClusterReader(cluster.url, { timeoutMs: 5000, readFrom });
  readers.push(r);
  return r;
}

function elements(read: CacheRead | undefined): string[] {
  if (read?.kind !== 'present') throw new Error(`expected present, got ${JSON.stringify(read)}`);
  return (read.value as Buffer[]).map((b) => b.toString('hex'));
}

describe.each(['master', 'replica'] as const)('collections on a Redis Cluster (read from %s)', (readFrom) => {
  it('reads lists of many slots in one batch, each in order with its PTTL', async () => {
    expect(new Set(lists.map((name) => calculateSlot(name))).size).toBeGreaterThan(20);
    const r = await reader(readFrom);
    const keys = lists.map((name) => Buffer.from(name));
    // A replica may not have received the last writes yet.
    const reads = await waitFor(async () => {
      const got = await r.read(keys, 'list', LIMIT);
      return got.every((read) => read.kind === 'present') && got;
    }, 10_000, 'every list readable');
    reads.forEach((read, i) => {
      expect(elements(read)).toEqual([Buffer.from(`${i}`), Buffer.from([0xff, i]), Buffer.from('tail')].map((b) => b.toString('hex')));
      expect(read.kind === 'present' && read.pttlMs > 0 && read.pttlMs <= 600_000).toBe(true);
    });
  });

  it('reads a set and a zset (scores as Redis spells them), and tells another type, gone and too-large apart', async () => {
    const r = await reader(readFrom);
    await waitFor(async () => (await r.read([Buffer.from('cc:string')], 'string', LIMIT))[0]?.kind === 'present', 10_000, 'replicated');
    const [set] = await r.read([Buffer.from('cc:set')], 'set', LIMIT);
    expect(elements(set).map((hex) => Buffer.from(hex, 'hex').toString()).sort()).toEqual(['a', 'b', 'c']);
    const [zset, wrong, gone] = await r.read([Buffer.from('cc:zset'), Buffer.from('cc:string'), Buffer.from('cc:never')], 'zset', LIMIT);
    expect(zset?.kind === 'present' && (zset.value as ScoredMember[]).map((m) => `${m.member.toString()}=${m.score}`)).toEqual(['bottom=-inf', 'x y=1.5', 'top=inf']);
    expect(wrong?.kind === 'present' && wrong.redisType).toBe('string');
    expect(gone).toEqual({ kind: 'gone' });

    const nodes = cluster.nodes.map((n) => cluster.node(n.address));
    const lrangeCalls = async () => (await Promise.all(nodes.map((n) => commandCalls(n)))).reduce((sum, calls) => sum + (calls.get('lrange') ?? 0), 0);
    const before = await lrangeCalls();
    const [long] = await r.read([Buffer.from('cc:long')], 'list', LIMIT);
    expect(long).toEqual({ kind: 'too-large', redisType: 'list', size: LIMIT / 64 + 1, unit: 'elements' });
    expect(await lrangeCalls()).toBe(before);
  });
});
