/**
 * Lists, sets and sorted sets through the Sentinel reader (the standalone reader around the node
 * the sentinel names): a master, one replica and one sentinel, throwaway redis-servers on free
 * ports, killed in afterAll. Read from the master and, with readFrom 'replica', from the replica.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheReader } from '../../../src/cache/index.js';
import type { CacheReader } from '../../../src/cache/types.js';
import type { ScoredMember } from '../../../src/core/observation.js';
import { REDIS_HOST, waitFor } from '../helpers/redis.js';
import { adminClient, commandCalls, plainArgs, startRedisProcess, stopAll } from '../sentinel/servers.js';

const MASTER_NAME = 'collections';
const LIMIT = 64 * 1024;
let masterAdmin: Redis;
let replicaAdmin: Redis;
let url: string;
const readers: CacheReader[] = [];

beforeAll(async () => {
  const master = await startRedisProcess({ args: plainArgs });
  const replica = await startRedisProcess({ args: (port, dir) => [...plainArgs(port, dir), '--replicaof', REDIS_HOST, String(master.port)] });
  masterAdmin = await adminClient(master.port);
  replicaAdmin = await adminClient(replica.port);
  await waitFor(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 15_000, 'the replica to sync', 100);
  const sentinel = await startRedisProcess({
    mode: ['--sentinel'],
    config: (port, dir) =>
      [`port ${port}`, `bind ${REDIS_HOST}`, `dir ${dir}`, `sentinel monitor ${MASTER_NAME} ${REDIS_HOST} ${master.port} 1`, `sentinel down-after-milliseconds ${MASTER_NAME} 10000`, ''].join('\n'),
    args: () => [],
  });
  const sentinelAdmin = await adminClient(sentinel.port);
  try {
    await waitFor(
      async () => ((await sentinelAdmin.call('SENTINEL', 'replicas', MASTER_NAME)) as unknown[]).length === 1,
      20_000,
      'the sentinel to see the replica',
      100,
    );
  } finally {
    sentinelAdmin.disconnect();
  }
  url = `redis+sentinel://${REDIS_HOST}:${sentinel.port}/${MASTER_NAME}`;

  await masterAdmin.rpush('sl:list', 'first', Buffer.from([0xfe, 0x0a]), 'last');
  await masterAdmin.expire('sl:list', 600);
  await masterAdmin.zadd('sl:zset', '10', 'ten', '0.5', 'half');
  await masterAdmin.sadd('sl:long', ...Array.from({ length: LIMIT / 64 + 1 }, (_, i) => String(i)));
  const size = await masterAdmin.dbsize();
  await waitFor(async () => (await replicaAdmin.dbsize()) === size, 15_000, 'the replica to hold the keys', 50);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(readers.map((r) => r.close()));
  masterAdmin?.disconnect();
  replicaAdmin?.disconnect();
  await stopAll();
});

describe.each(['master', 'replica'] as const)('collections through Sentinel (read from %s)', (readFrom) => {
  it('reads a list in order with its PTTL and a zset with its scores; a set over the element limit is not fetched', async () => {
    const reader = await createCacheReader(url, { timeoutMs: 5000, readFrom });
    readers.push(reader);
    const [list] = await reader.read([Buffer.from('sl:list')], 'list', LIMIT);
    expect(list?.kind === 'present' && (list.value as Buffer[]).map((b) => b.toString('hex'))).toEqual(['first', Buffer.from([0xfe, 0x0a]), 'last'].map((v) => Buffer.from(v).toString('hex')));
    expect(list?.kind === 'present' && list.pttlMs > 0).toBe(true);
    const [zset] = await reader.read([Buffer.from('sl:zset')], 'zset', LIMIT);
    expect(zset?.kind === 'present' && (zset.value as ScoredMember[]).map((m) => `${m.member.toString()}=${m.score}`)).toEqual(['half=0.5', 'ten=10']);

    const node = readFrom === 'master' ? masterAdmin : replicaAdmin;
    const before = await commandCalls(node, 'smembers');
    const [long] = await reader.read([Buffer.from('sl:long')], 'set', LIMIT);
    expect(long).toEqual({ kind: 'too-large', redisType: 'set', size: LIMIT / 64 + 1, unit: 'elements' });
    expect(await commandCalls(node, 'smembers')).toBe(before);
    // The reads went to the node asked for: it ran the LRANGE.
    expect(await commandCalls(node, 'lrange')).toBeGreaterThan(0);
  });
});
