/**
 * Redis helpers for the CLI-level audit tests: a private redis-server with a client pinned to one
 * logical database (verified, and verified empty), a sweep of a test's own keys, CLIENT LIST
 * polling to see what the audit's connection is doing, and a throwaway redis-server process.
 *
 * No test uses the machine's shared Redis (127.0.0.1:6379): another project's keys in any of its
 * databases, or another process's commands, must not change a verdict or a command count here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_HOST = '127.0.0.1';

export interface TestDb {
  db: number;
  /** Port of the server this database lives on. */
  port: number;
  /** URL of this logical database, for `--redis`. */
  url: string;
  redis: Redis;
  /** Ids of this helper's own connections, so CLIENT LIST polling can tell them from the CLI's. */
  ownClientIds: Set<number>;
  /** UNLINKs every key of this database whose name starts with one of the prefixes. */
  sweep(prefixes: readonly string[]): Promise<number>;
  /** Closes the client, and stops the server when openTestDb started it. */
  close(): Promise<void>;
}

/**
 * A client on logical database `db`, after checking (CLIENT INFO) that the connection really sits
 * on that database and (DBSIZE) that the database is empty. Without `port`, on a private
 * redis-server started for the caller and stopped by `close()`; with `port`, on the caller's own
 * server, which must then be as empty as a new one.
 */
export async function openTestDb(db: number, port?: number): Promise<TestDb> {
  const server = port === undefined ? await startRedisServer() : undefined;
  const serverPort = server?.port ?? (port as number);
  const url = `redis://${REDIS_HOST}:${serverPort}/${db}`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = String(await redis.call('CLIENT', 'INFO'));
    const actual = /\bdb=(\d+)\b/.exec(info)?.[1];
    if (actual !== String(db)) throw new Error(`expected a connection on Redis db ${db}, CLIENT INFO says db=${actual ?? '?'}`);
    const keys = await redis.dbsize();
    if (keys !== 0) throw new Error(`Redis db ${db} on port ${serverPort} already holds ${keys} keys; a test needs an empty database of its own`);
  } catch (error) {
    redis.disconnect();
    await server?.kill();
    throw error;
  }
  const ownClientIds = new Set([Number(await redis.client('ID'))]);
  return {
    db,
    port: serverPort,
    url,
    redis,
    ownClientIds,
    sweep: (prefixes) => sweepPrefixes(redis, prefixes),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
      await server?.kill();
    },
  };
}

async function sweepPrefixes(redis: Redis, prefixes: readonly string[]): Promise<number> {
  let removed = 0;
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
      cursor = next.toString();
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return removed;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export interface ClientEntry {
  id: number;
  db: number;
  cmd: string;
  user: string;
}

/** CLIENT LIST, parsed to what the tests look at. */
export async function clientList(redis: Redis): Promise<ClientEntry[]> {
  const text = String(await redis.call('CLIENT', 'LIST'));
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map(
        line
          .trim()
          .split(' ')
          .map((kv) => {
            const eq = kv.indexOf('=');
            return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
          }),
      );
      return { id: Number(fields.get('id')), db: Number(fields.get('db')), cmd: fields.get('cmd') ?? '', user: fields.get('user') ?? '' };
    });
}

/** Ids of the connections on `testDb`'s database right now (the test's own included). */
export async function clientIdsOn(testDb: TestDb): Promise<Set<number>> {
  return new Set((await clientList(testDb.redis)).filter((c) => c.db === testDb.db).map((c) => c.id));
}

/**
 * Polls CLIENT LIST until a connection on `testDb`'s database, other than the test's own and
 * those in `exclude` (e.g. connections that existed before the CLI was started), shows one of
 * `commands` as its last command; returns it. Throws after `timeoutMs`.
 */
export async function waitForClientCommand(
  testDb: TestDb,
  commands: readonly string[],
  timeoutMs: number,
  exclude: ReadonlySet<number> = new Set(),
): Promise<ClientEntry> {
  return waitFor(
    async () =>
      (await clientList(testDb.redis)).find(
        (c) => c.db === testDb.db && !testDb.ownClientIds.has(c.id) && !exclude.has(c.id) && commands.includes(c.cmd),
      ),
    timeoutMs,
    `a new client on Redis db ${testDb.db} running ${commands.join('/')}`,
  );
}

/** Polls `probe` every `intervalMs` until it returns something other than undefined/false. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A read-only-ish ACL user for one test, removed by `drop`. */
export interface AclUser {
  name: string;
  password: string;
  /** `redis://name:password@host:port/db`. */
  url(db: number): string;
  /** ACL LOG entries (denied commands or keys) recorded for this user. */
  deniedLog(): Promise<Record<string, string>[]>;
  drop(): Promise<void>;
}

/**
 * Creates an ACL user with a random name and password on `admin`'s server. `rules` are ACL
 * SETUSER rules after `reset on >password`, e.g. `['~*', '+@all', '-@write']`.
 */
export async function createAclUser(admin: Redis, prefix: string, rules: readonly string[]): Promise<AclUser> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const password = `pw_${randomBytes(8).toString('hex')}`;
  await admin.call('ACL', 'SETUSER', name, 'reset', 'on', `>${password}`, ...rules);
  return {
    name,
    password,
    url: (db) => `redis://${name}:${password}@${REDIS_HOST}:${admin.options.port ?? 6379}/${db}`,
    deniedLog: async () => {
      const entries = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
      return entries.map(pairsToRecord).filter((e) => e['username'] === name);
    },
    drop: async () => {
      await admin.call('ACL', 'DELUSER', name);
    },
  };
}

function pairsToRecord(pairs: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[String(pairs[i])] = String(pairs[i + 1]);
  return out;
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, REDIS_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  process: ChildProcess;
  /** SIGKILLs the server (idempotent) and removes its working directory. */
  kill(): Promise<void>;
}

/** Starts a throwaway redis-server (no persistence) on a free port and waits until it answers PING. */
export async function startRedisServer(timeoutMs = 10_000): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sc-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  const server: RedisServer = {
    port,
    process: child,
    kill: async () => {
      if (!exited) {
        child.kill('SIGKILL');
        await Promise.race([exit, sleep(5000)]);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server on port ${port} exited at start`);
        const probe = new Redis(port, REDIS_HOST, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      timeoutMs,
      `redis-server on port ${port} to answer PING`,
      100,
    );
  } catch (error) {
    await server.kill();
    throw error;
  }
  return server;
}

/**
 * A private redis-server for the calling test file: started before its tests, killed after them.
 * Returns a function giving the server's `redis://` URL (database 0), valid once beforeAll has run.
 */
export function usePrivateRedis(): () => string {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.kill();
  });
  return () => {
    if (server === undefined) throw new Error('usePrivateRedis: the server is not started yet (use the URL inside a test or hook)');
    return `redis://${REDIS_HOST}:${server.port}/0`;
  };
}
