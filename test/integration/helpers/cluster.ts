/**
 * A real, throwaway Redis Cluster for the cluster tests: N masters (and optionally one replica
 * each) as redis-server processes on free loopback ports, joined with `redis-cli --cluster create`.
 * Every process runs in its own process group, which `stop()` SIGKILLs (the replicas' sync forks
 * included); a process 'exit' hook does the same should the test runner die before afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { freePort, REDIS_HOST, waitFor } from './redis.js';

export interface ClusterNodeProcess {
  port: number;
  address: string;
  process: ChildProcess;
  /** Whether the process has exited (killed or crashed). */
  exited(): boolean;
}

export interface ShardInfo {
  master: string;
  replicas: string[];
  /** Slot ranges as `CLUSTER SLOTS` lists them, e.g. [[0, 5460]]. */
  ranges: [number, number][];
}

export interface TestCluster {
  nodes: ClusterNodeProcess[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2/`: two seed nodes, as a user would write it. */
  url: string;
  /** A (writing) cluster client for seeding, owned by the helper. */
  admin: Cluster;
  /** A plain (writing) client on one node, owned by the helper. */
  node(address: string): Redis;
  /** The shards as one node's `CLUSTER SLOTS` sees them, in slot order. */
  shards(from?: string): Promise<ShardInfo[]>;
  /** SIGKILLs one node's process group and waits for it to exit. */
  kill(address: string): Promise<void>;
  /** Kills every process and removes the working directory. Idempotent. */
  stop(): Promise<void>;
}

export interface ClusterSpec {
  masters: number;
  /** Replicas per master (0 or 1). */
  replicas: 0 | 1;
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function startCluster(spec: ClusterSpec): Promise<TestCluster> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) killGroup(child);
    });
  }
  const timeoutMs = spec.timeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'sc-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  const clients = new Map<string, Redis>();
  let admin: Cluster | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    admin?.disconnect();
    for (const client of clients.values()) client.disconnect();
    const exits = nodes.map((n) => (n.exited() ? Promise.resolve() : new Promise<void>((resolve) => n.process.once('exit', () => resolve()))));
    for (const n of nodes) killGroup(n.process);
    await Promise.race([Promise.all(exits), sleep(5000)]);
    await rm(dir, { recursive: true, force: true });
  };

  const nodeClient = (address: string) => {
    let client = clients.get(address);
    if (client === undefined) {
      const [host, port] = splitAddress(address);
      client = new Redis(port, host, { maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
      client.on('error', () => {});
      clients.set(address, client);
    }
    return client;
  };

  try {
    const count = spec.masters * (1 + spec.replicas);
    for (let i = 0; i < count; i++) nodes.push(await startNode(dir));
    await Promise.all(nodes.map((n) => waitFor(() => ping(n), timeoutMs, `redis-server on port ${n.port} to answer PING`, 50)));

    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(spec.replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: timeoutMs },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${String(create.status)}):\n${create.stdout}\n${create.stderr}`);

    // Every node agrees the cluster is up, every replica is in sync, and CLUSTER SLOTS on every
    // node lists every master with its replicas (so a reader sees the whole topology at once).
    await waitFor(
      async () => {
        for (const n of nodes) {
          const info = String(await nodeClient(n.address).call('CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok')) return false;
          const replication = await nodeClient(n.address).info('replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
          const shards = await readShards(nodeClient(n.address));
          if (shards.length !== spec.masters || shards.some((s) => s.replicas.length !== spec.replicas)) return false;
        }
        return true;
      },
      timeoutMs,
      'cluster_state:ok and replicas in sync on every node',
      100,
    );

    admin = new Cluster(
      nodes.slice(0, 2).map((n) => ({ host: REDIS_HOST, port: n.port })),
      { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 2 }, clusterRetryStrategy: () => null },
    );
    admin.on('error', () => {});
    await admin.ping();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    url: `redis+cluster://${nodes
      .slice(0, 2)
      .map((n) => n.address)
      .join(',')}/`,
    admin,
    node: nodeClient,
    shards: (from) => readShards(nodeClient(from ?? liveNode(nodes).address)),
    kill: async (address) => {
      const n = nodes.find((node) => node.address === address);
      if (n === undefined) throw new Error(`no node ${address} in this cluster`);
      const exited = n.exited() ? Promise.resolve() : new Promise<void>((resolve) => n.process.once('exit', () => resolve()));
      killGroup(n.process);
      await Promise.race([exited, sleep(5000)]);
      clients.get(address)?.disconnect();
      clients.delete(address);
    },
    stop,
  };
}

async function startNode(dir: string): Promise<ClusterNodeProcess> {
  const port = await freePort();
  // The cluster bus gets its own free port (Redis 7 cluster-port) instead of port + 10000, which
  // may be taken or out of range for a port from the ephemeral range.
  let busPort = await freePort();
  while (busPort === port) busPort = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--cluster-port', String(busPort),
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', '1000',
      '--save', '',
      '--appendonly', 'no',
      // A replica's first sync starts at once (the default waits 5 s for more replicas), and its
      // replication offset leaves 0 within a second (CLUSTER SLOTS lists no replica at offset 0;
      // on an idle master the offset only moves with its pings to replicas, every 10 s by default).
      '--repl-diskless-sync-delay', '0',
      '--repl-ping-replica-period', '1',
      '--daemonize', 'no',
      '--bind', REDIS_HOST,
      '--dir', dir,
      '--logfile', join(dir, `redis-${port}.log`),
    ],
    // Its own process group, so a kill reaches the forks it makes for replica syncs too.
    { stdio: 'ignore', detached: true },
  );
  child.unref();
  live.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  return { port, address: `${REDIS_HOST}:${port}`, process: child, exited: () => exited };
}

async function ping(node: ClusterNodeProcess): Promise<boolean> {
  if (node.exited()) throw new Error(`redis-server on port ${node.port} exited at start`);
  const probe = new Redis(node.port, REDIS_HOST, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function liveNode(nodes: readonly ClusterNodeProcess[]): ClusterNodeProcess {
  const node = nodes.find((n) => !n.exited());
  if (node === undefined) throw new Error('every node of the test cluster has exited');
  return node;
}

/** `CLUSTER SLOTS`, grouped by master, in slot order. */
export async function readShards(client: Redis): Promise<ShardInfo[]> {
  const reply = (await client.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number, ...unknown[]][]][];
  const byMaster = new Map<string, ShardInfo>();
  for (const [start, end, ...nodes] of [...reply].sort((a, b) => a[0] - b[0])) {
    const [master, ...replicas] = nodes;
    if (master === undefined) continue;
    const address = `${master[0]}:${master[1]}`;
    let shard = byMaster.get(address);
    if (shard === undefined) {
      shard = { master: address, replicas: replicas.map((r) => `${r[0]}:${r[1]}`), ranges: [] };
      byMaster.set(address, shard);
    }
    shard.ranges.push([start, end]);
  }
  return [...byMaster.values()];
}

/** `INFO commandstats` call counts by command name (lower case). */
export async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const info = await client.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] as string, Number(match[2]));
  return calls;
}

export function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
