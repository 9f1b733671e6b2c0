/**
 * The Cluster reader's sampling primitives and --shard against a real cluster: 3 masters with one
 * replica each, started by this file on free loopback ports and killed in afterAll. Keys are
 * placed unevenly on purpose (by hash tag: 3000 on the first master, 1000 on the second, none on
 * the third), so that a spread that ignored key counts would show.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterReader, type ClusterCacheReader } from '../../../src/cache/redis-cluster.js';
import { commandCalls, startCluster, type ShardInfo, type TestCluster } from '../helpers/cluster.js';

const P = 'smp:';
const PLACED = [3000, 1000, 0];

let cluster: TestCluster;
let shards: ShardInfo[];
const toClose: { close(): Promise<void> }[] = [];
/** A hash tag per master whose slot that master serves. */
const tags: string[] = [];

function masterOfSlot(slot: number): number {
  return shards.findIndex((s) => s.ranges.some(([from, to]) => slot >= from && slot <= to));
}

/** The first `{tN}` tag whose slot lives on master `index`. */
function tagOn(index: number): string {
  for (let n = 0; ; n++) if (masterOfSlot(calculateSlot(`{t${n}}`)) === index) return `t${n}`;
}

const keyOn = (master: number, i: number) => `${P}{${tags[master] as string}}:${i}`;

async function calls(address: string, command: string): Promise<number> {
  return (await commandCalls(cluster.node(address))).get(command) ?? 0;
}

/** Per node address: how many times `command` ran during `work`. */
async function callsDuring(command: string, work: () => Promise<unknown>): Promise<Map<string, number>> {
  const addresses = cluster.nodes.map((n) => n.address);
  const before = await Promise.all(addresses.map((a) => calls(a, command)));
  await work();
  const after = await Promise.all(addresses.map((a) => calls(a, command)));
  return new Map(addresses.map((a, i) => [a, (after[i] as number) - (before[i] as number)]));
}

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1 });
  shards = await cluster.shards();
  for (let m = 0; m < 3; m++) tags.push(tagOn(m));
  for (let m = 0; m < 3; m++) {
    for (let i = 0; i < (PLACED[m] as number); i += 500) {
      const pipe = cluster.admin.pipeline();
      for (let j = i; j < Math.min(i + 500, PLACED[m] as number); j++) pipe.set(keyOn(m, j), String(j), 'EX', 900);
      await pipe.exec();
    }
  }
  // Replicas hold every key before a test reads them there.
  for (const shard of shards) {
    const replica = cluster.node(shard.replicas[0] as string);
    const master = shards.indexOf(shard);
    const deadline = Date.now() + 20_000;
    while (Number(await replica.dbsize()) !== PLACED[master] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(toClose.map((r) => r.close()));
  await cluster?.stop();
}, 30_000);

async function reader(readFrom: 'master' | 'replica' = 'master'): Promise<ClusterCacheReader> {
  const r = await createClusterReader(cluster.url, { timeoutMs: 5000, readFrom });
  toClose.push(r);
  return r;
}

describe('randomKeys on a Cluster', () => {
  it('spreads the RANDOMKEY calls over the masters by their key counts (3000 : 1000 : 0), pipelined by at most 1000', async () => {
    const r = await reader();
    const sent: number[] = [];
    let keys: Buffer[] = [];
    const delta = await callsDuring('randomkey', async () => {
      keys = await (r.randomKeys as NonNullable<ClusterCacheReader['randomKeys']>)(2500, async (n) => {
        sent.push(n);
      });
    });
    // 2500 x 3/4 = 1875 on the first master, 625 on the second, none on the empty third.
    expect(shards.map((s) => delta.get(s.master))).toEqual([1875, 625, 0]);
    expect(shards.map((s) => delta.get(s.replicas[0] as string))).toEqual([0, 0, 0]);
    // Every call was announced to the throttle before it was sent, in pipelines of at most 1000.
    expect(sent.reduce((a, n) => a + n, 0)).toBe(2500);
    expect(Math.max(...sent)).toBeLessThanOrEqual(1000);
    expect([...sent].sort((a, b) => a - b)).toEqual([625, 875, 1000]);
    // Every reply is a key of the node it came from, as Buffers, none empty.
    expect(keys).toHaveLength(2500);
    expect(keys.every((k) => Buffer.isBuffer(k))).toBe(true);
    const perMaster = [0, 0, 0];
    for (const key of keys) {
      const m = masterOfSlot(calculateSlot(key));
      perMaster[m] = (perMaster[m] ?? 0) + 1;
    }
    expect(perMaster).toEqual([1875, 625, 0]);
    // RANDOMKEY picks across the node's keys: 1875 draws among 3000 keys give well over 1000 distinct ones.
    expect(new Set(keys.filter((k) => masterOfSlot(calculateSlot(k)) === 0).map(String)).size).toBeGreaterThan(1000);
  });

  it('reading from replicas, samples the replicas by their own DBSIZE and sends nothing to a master', async () => {
    const r = await reader('replica');
    let keys: Buffer[] = [];
    const delta = await callsDuring('randomkey', async () => {
      keys = await (r.randomKeys as NonNullable<ClusterCacheReader['randomKeys']>)(400);
    });
    expect(shards.map((s) => delta.get(s.replicas[0] as string))).toEqual([300, 100, 0]);
    expect(shards.map((s) => delta.get(s.master))).toEqual([0, 0, 0]);
    expect(keys).toHaveLength(400);
  });

  it('sends nothing for a count of 0', async () => {
    const r = await reader();
    const delta = await callsDuring('randomkey', async () => expect(await r.randomKeys?.(0)).toEqual([]));
    expect([...delta.values()].every((n) => n === 0)).toBe(true);
  });
});

describe('exists on a Cluster', () => {
  it('answers one boolean per key in input order, one EXISTS per key on the node serving its slot', async () => {
    const r = await reader();
    const keys = [
      Buffer.from(keyOn(0, 5)),
      Buffer.from(keyOn(2, 1)), // the third master holds nothing
      Buffer.from(keyOn(1, 999)),
      Buffer.from(keyOn(1, 1000)), // never written
      Buffer.from(keyOn(0, 2999)),
      Buffer.concat([Buffer.from(`${P}{${tags[1] as string}}:`), Buffer.from([0xff, 0x00])]), // binary, absent
      Buffer.from(keyOn(0, 5)), // asked twice
    ];
    let answers: boolean[] = [];
    const delta = await callsDuring('exists', async () => {
      answers = await (r.exists as NonNullable<ClusterCacheReader['exists']>)(keys);
    });
    expect(answers).toEqual([true, false, true, false, true, false, true]);
    expect(shards.map((s) => delta.get(s.master))).toEqual([3, 3, 1]);
    expect(await r.exists?.([])).toEqual([]);
  });

  it('reading from replicas, asks the replicas', async () => {
    const r = await reader('replica');
    const keys = [0, 1, 2].map((m) => Buffer.from(keyOn(m, 7)));
    let answers: boolean[] = [];
    const delta = await callsDuring('exists', async () => {
      answers = await (r.exists as NonNullable<ClusterCacheReader['exists']>)(keys);
    });
    expect(answers).toEqual([true, true, false]);
    expect(shards.map((s) => delta.get(s.replicas[0] as string))).toEqual([1, 1, 1]);
    expect(shards.map((s) => delta.get(s.master))).toEqual([0, 0, 0]);
  });

  it('follows a slot that moved after the reader read the slot map (MOVED)', async () => {
    const r = await reader();
    const moving = Buffer.from('{smpmv}:a');
    await cluster.admin.set(moving, 'x', 'EX', 600);
    expect(await r.exists?.([moving])).toEqual([true]);
    const slot = calculateSlot(moving);
    const source = shards[masterOfSlot(slot)] as ShardInfo;
    const target = shards.find((s) => s !== source) as ShardInfo;
    const [src, dst] = [cluster.node(source.master), cluster.node(target.master)];
    const [srcId, dstId] = [String(await src.call('CLUSTER', 'MYID')), String(await dst.call('CLUSTER', 'MYID'))];
    const move = async (from: typeof src, to: typeof dst, toInfo: ShardInfo, fromId: string, toId: string, order: ShardInfo[]) => {
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      const [host, port] = toInfo.master.split(':') as [string, string];
      await from.call('MIGRATE', host, Number(port), '', 0, 5000, 'KEYS', moving);
      for (const shard of order) await cluster.node(shard.master).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    };
    const others = shards.filter((s) => s !== source && s !== target);
    await move(src, dst, target, srcId, dstId, [target, source, ...others]);
    try {
      const delta = await callsDuring('exists', async () => expect(await r.exists?.([moving, Buffer.from(keyOn(0, 1))])).toEqual([true, true]));
      // The old master answered MOVED for the moved key; the new one answered it.
      expect(delta.get(target.master)).toBeGreaterThanOrEqual(1);
    } finally {
      await move(dst, src, source, dstId, srcId, [source, target, ...others]);
      await cluster.admin.del(moving);
    }
  });
});
