/**
 * The Cluster reader's sampling primitives and --shard against a real cluster: 3 masters with one
 * replica each, started by this file on free loopback ports and killed in afterAll. Keys are
 * placed unevenly on purpose (by hash tag: 3000 on the first master, 1000 on the second, none on
 * the third), so that a spread that ignored key counts would show. The --shard tests run the
 * built CLI (npm run build) against a throwaway `sc_<hex>` PostgreSQL schema, dropped afterwards.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterReader, type ClusterCacheReader } from '../../../src/cache/redis-cluster.js';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { commandCalls, startCluster, type ShardInfo, type TestCluster } from '../helpers/cluster.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';

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

const formatRanges = (ranges: readonly [number, number][]) => ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');

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
  // A generous start-up bound: six redis-servers agreeing on a cluster is slow on a loaded machine.
  cluster = await startCluster({ masters: 3, replicas: 1, timeoutMs: 90_000 });
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
}, 180_000);

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

  it('restricted to a shard, samples only the shard\'s masters, and its predicate keeps only the shard\'s keys', async () => {
    const r = await reader();
    const owns = (r.restrictToShard as NonNullable<ClusterCacheReader['restrictToShard']>)({ index: 1, count: 3 });
    let keys: Buffer[] = [];
    const delta = await callsDuring('randomkey', async () => {
      keys = await (r.randomKeys as NonNullable<ClusterCacheReader['randomKeys']>)(300);
    });
    expect(shards.map((s) => delta.get(s.master))).toEqual([0, 300, 0]);
    expect(keys.every((k) => masterOfSlot(calculateSlot(k)) === 1)).toBe(true);
    expect(keys.every((k) => owns(k))).toBe(true);
    expect([0, 1, 2].map((m) => owns(Buffer.from(keyOn(m, 1))))).toEqual([false, true, false]);
    expect(await r.size()).toBe(1000);
  });

  it('restricted to shard 0 of 6 (half of the first master), samples that master and counts half its keys', async () => {
    const r = await reader();
    const owns = (r.restrictToShard as NonNullable<ClusterCacheReader['restrictToShard']>)({ index: 0, count: 6 });
    const delta = await callsDuring('randomkey', () => (r.randomKeys as NonNullable<ClusterCacheReader['randomKeys']>)(100));
    expect(shards.map((s) => delta.get(s.master))).toEqual([100, 0, 0]);
    // Shards 0 and 3 share the first master, shard 0 the first half of its slots.
    const first = shards[0]?.ranges[0] as [number, number];
    const lastOwned = first[0] + Math.floor((first[1] - first[0] + 1) / 2) - 1;
    expect(owns(Buffer.from(keyOn(0, 1)))).toBe(calculateSlot(keyOn(0, 1)) <= lastOwned);
    expect(owns(Buffer.from(`{x}${lastOwned}`))).toBe(calculateSlot(`{x}${lastOwned}`) <= lastOwned);
    expect(owns(Buffer.from(keyOn(1, 1)))).toBe(false);
    // DBSIZE of the master scaled by the slots owned there (half), an estimate.
    expect(await r.size()).toBe(Math.round((3000 * (lastOwned - first[0] + 1)) / (first[1] - first[0] + 1)));
  });

  it('a node whose connection drops under a pipeline is connected again, and the pipeline sent there once more', async () => {
    const r = await reader();
    const randomKeys = async (n: number, before?: (calls: number) => Promise<void>) => (await r.randomKeys?.(n, before)) ?? [];
    expect(await randomKeys(100)).toHaveLength(100);
    // The reader's connections are cut just before its first pipelines go out.
    let cut = false;
    const cutFirst = async () => {
      if (cut) return;
      cut = true;
      for (const shard of shards) await cluster.node(shard.master).call('CLIENT', 'KILL', 'SKIPME', 'yes', 'TYPE', 'normal');
    };
    let keys: Buffer[] = [];
    const delta = await callsDuring('randomkey', async () => {
      keys = await randomKeys(400, cutFirst);
    });
    expect(cut).toBe(true);
    expect(keys).toHaveLength(400);
    const perMaster = [0, 0, 0];
    for (const key of keys) {
      const m = masterOfSlot(calculateSlot(key));
      perMaster[m] = (perMaster[m] ?? 0) + 1;
    }
    expect(perMaster).toEqual([300, 100, 0]);
    // A pipeline the server ran before its connection was cut shows twice in its call count: the
    // replies were lost, so it was sent again (each RANDOMKEY stands alone; no key is kept twice).
    shards.forEach((s, m) => {
      const share = [300, 100, 0][m] as number;
      expect(delta.get(s.master)).toBeGreaterThanOrEqual(share);
      expect(delta.get(s.master)).toBeLessThanOrEqual(2 * share);
    });
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

describe('--shard i/N on a Cluster (the built CLI)', () => {
  const USERS = 900;
  const SETTINGS = 60;
  let pg: Sandbox;
  let dir: TempDir;
  let rules: string;

  interface Report {
    summary: Record<string, number>;
    families: { name: string; sampling?: { method: string; examined: number; redisCalls: number; notCached?: number } }[];
    coverage?: { complete: boolean; slots?: string; nodes: { address: string; role: string; slots: string; complete: boolean }[] };
  }

  beforeAll(async () => {
    pg = await createPgSandbox();
    const users = pg.table('users');
    await pg.exec(`CREATE TABLE ${users} (id int PRIMARY KEY, name text NOT NULL)`);
    await pg.exec(`INSERT INTO ${users} SELECT i, 'user ' || i FROM generate_series(1, ${USERS}) AS i`);
    // Keys all over the slots: most match, every 10th diverges, and some no family claims.
    await Promise.all(
      Array.from({ length: USERS }, (_, n) => {
        const id = n + 1;
        // A stale entry with no TTL is divergent (no-ttl); the rest match.
        if (id % 10 === 0) return cluster.admin.set(`${P}user:${id}`, JSON.stringify({ id, name: 'old' }));
        return cluster.admin.set(`${P}user:${id}`, JSON.stringify({ id, name: `user ${id}` }), 'EX', 900);
      }),
    );
    await Promise.all(Array.from({ length: SETTINGS }, (_, n) => cluster.admin.set(`${P}user:${n + 1}:settings`, '{}', 'EX', 900)));
    dir = await makeTempDir('shadowcheck-cluster-shard-');
    rules = await dir.write(
      'rules.yaml',
      `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: user
    pattern: "${P}user:{id}"
    source: main
    table: ${users}
    fields: [name]
    ttl: 20m
`,
    );
  }, 60_000);

  afterAll(async () => {
    await pg?.drop();
    await dir?.remove();
  });

  /** One audit run (--all unless `sample` is given); the SCAN, RANDOMKEY and EXISTS calls it sent to each master, in slot order. */
  async function audit(extra: readonly string[], sample?: number): Promise<{ report: Report; scans: number[]; randoms: number[]; exists: number[] }> {
    const stats = () => Promise.all(shards.map(async (s) => commandCalls(cluster.node(s.master))));
    const before = await stats();
    const size = sample === undefined ? ['--all'] : ['--sample', String(sample)];
    const result = await runCli(['audit', '--rules', rules, '--redis', cluster.url, ...size, '--confirm-delay', '0', '--format', 'json', ...extra], {}, 90_000);
    const after = await stats();
    if (result.stdout === '') throw new Error(`audit printed no report (exit ${String(result.code)}): ${result.stderr}`);
    expect([0, 1], result.stderr).toContain(result.code);
    const delta = (command: string) => after.map((m, i) => (m.get(command) ?? 0) - (before[i]?.get(command) ?? 0));
    return { report: JSON.parse(result.stdout) as Report, scans: delta('scan'), randoms: delta('randomkey'), exists: delta('exists') };
  }

  const counts = (r: Report) => ({ sampled: r.summary['sampled'], divergent: r.summary['divergent'], unmatched: r.summary['unmatched'] });
  const total = (reports: Report[]) => ({
    sampled: reports.reduce((a, r) => a + (r.summary['sampled'] ?? 0), 0),
    divergent: reports.reduce((a, r) => a + (r.summary['divergent'] ?? 0), 0),
    unmatched: reports.reduce((a, r) => a + (r.summary['unmatched'] ?? 0), 0),
  });
  let whole: Report;

  it('an unsharded run scans every master and judges every key (the reference)', async () => {
    const run = await audit([]);
    whole = run.report;
    // Unmatched: every key no family covers, the hash-tagged keys of the randomKeys tests included.
    expect(counts(whole)).toEqual({ sampled: USERS, divergent: USERS / 10, unmatched: SETTINGS + 4000 });
    expect(run.scans.every((n) => n > 0)).toBe(true);
    expect(whole.coverage?.slots).toBeUndefined();
  }, 120_000);

  it('--shard i/3: each shard scans only its own master, and the three add up to the unsharded run', async () => {
    const reports: Report[] = [];
    for (let i = 0; i < 3; i++) {
      const { report, scans } = await audit(['--shard', `${i}/3`]);
      reports.push(report);
      expect(scans.map((n) => n > 0), `SCAN calls per master for shard ${i}/3: ${scans.join(',')}`).toEqual([0, 1, 2].map((m) => m === i));
      const own = shards[i] as ShardInfo;
      expect(report.coverage).toMatchObject({ complete: true, slots: formatRanges(own.ranges) });
      expect(report.coverage?.nodes).toEqual([{ address: own.master, role: 'master', slots: formatRanges(own.ranges), complete: true }]);
      expect(report.summary['sampled']).toBeGreaterThan(0);
    }
    expect(total(reports)).toEqual(counts(whole));
  }, 240_000);

  it('--shard i/2: shard 0 takes the first and third masters, shard 1 the second; they add up', async () => {
    const runs = [await audit(['--shard', '0/2']), await audit(['--shard', '1/2'])];
    expect(runs.map((r) => r.scans.map((n) => n > 0))).toEqual([
      [true, false, true],
      [false, true, false],
    ]);
    expect(total(runs.map((r) => r.report))).toEqual(counts(whole));
  }, 240_000);

  it('--shard i/5: masters shared by slot halves (shards 0 and 3 on the first, 1 and 4 on the second); they add up', async () => {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await audit(['--shard', `${i}/5`]));
    expect(runs.map((r) => r.scans.findIndex((n) => n > 0))).toEqual([0, 1, 2, 0, 1]);
    expect(runs.map((r) => r.scans.filter((n) => n > 0).length)).toEqual([1, 1, 1, 1, 1]);
    // Shards 0 and 3 split the first master's slots between them: contiguous halves.
    const first = shards[0]?.ranges[0] as [number, number];
    const half = first[0] + Math.floor((first[1] - first[0] + 1) / 2);
    expect([runs[0]?.report.coverage?.slots, runs[3]?.report.coverage?.slots]).toEqual([`${first[0]}-${half - 1}`, `${half}-${first[1]}`]);
    expect(total(runs.map((r) => r.report))).toEqual(counts(whole));
  }, 300_000);

  it('--sampling random: RANDOMKEY only, spread over the masters by their key counts, no SCAN', async () => {
    const sizes = await Promise.all(shards.map(async (sh) => Number(await cluster.node(sh.master).dbsize())));
    const { report, scans, randoms } = await audit(['--sampling', 'random'], 100);
    expect(report.families[0]?.sampling?.method).toBe('random');
    expect(report.summary['sampled']).toBe(100);
    expect(scans).toEqual([0, 0, 0]);
    const sent = randoms.reduce((a, n) => a + n, 0);
    expect(sent).toBeGreaterThan(100);
    // Each call of every pipeline apportioned by DBSIZE: per master within a few calls of its share.
    const all = sizes.reduce((a, n) => a + n, 0);
    randoms.forEach((n, m) => expect(Math.abs(n - (sent * (sizes[m] as number)) / all), `RANDOMKEY on master ${m}: ${randoms.join(',')}`).toBeLessThanOrEqual(0.01 * sent + 10));
  }, 120_000);

  it('--sampling random --shard 1/3: RANDOMKEY only on the shard\'s master', async () => {
    const { report, scans, randoms } = await audit(['--sampling', 'random', '--shard', '1/3'], 50);
    expect(report.families[0]?.sampling?.method).toBe('random');
    expect(report.summary['sampled']).toBe(50);
    expect(scans).toEqual([0, 0, 0]);
    expect(randoms.map((n) => n > 0)).toEqual([false, true, false]);
  }, 120_000);

  it('--sampling source: rows rendered into keys, EXISTS routed to the masters holding them', async () => {
    const { report, scans, exists } = await audit(['--sampling', 'source', '--seed', '3'], 100);
    expect(report.families[0]?.sampling?.method).toBe('source');
    // Every user row has a cache entry: every row drawn is judged.
    expect(report.summary['sampled']).toBe(100);
    expect(report.families[0]?.sampling?.notCached ?? 0).toBe(0);
    expect(scans).toEqual([0, 0, 0]);
    expect(exists.every((n) => n > 0)).toBe(true);
    expect(exists.reduce((a, n) => a + n, 0)).toBeGreaterThanOrEqual(100);
  }, 120_000);
});
