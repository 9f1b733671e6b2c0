/**
 * Throwaway redis-server processes with any arguments: a master, a replica, a sentinel, or a
 * TLS-only server. Each gets its own working directory and a free port; `kill()` SIGKILLs it and
 * removes the directory, and `stopAll()` does so for every process a test file started.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort, REDIS_HOST, waitFor } from '../helpers/redis.js';

export interface RedisProcess {
  port: number;
  /** Working directory (config files, sentinel state). */
  dir: string;
  /** The last lines the server wrote on stdout/stderr, for failure messages. */
  output(): string;
  kill(): Promise<void>;
}

const started = new Set<RedisProcess>();

/** Kills every server started through this module that is still running (for afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...started].map((p) => p.kill()));
}

export interface StartOptions {
  /** Arguments after the config file (or after `redis-server` when there is none). */
  args: (port: number, dir: string) => string[];
  /** A config file to write into the working directory first (sentinels rewrite theirs). */
  config?: (port: number, dir: string) => string;
  /** ioredis options of the readiness probe (TLS, for a TLS-only server). */
  probe?: RedisOptions;
  /** Extra arguments after the config file, e.g. `--sentinel`. */
  mode?: string[];
  timeoutMs?: number;
}

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedisProcess(options: StartOptions): Promise<RedisProcess> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sc-redis-'));
  const argv: string[] = [];
  if (options.config !== undefined) {
    const file = join(dir, 'redis.conf');
    await writeFile(file, options.config(port, dir));
    argv.push(file);
  }
  argv.push(...(options.mode ?? []), ...options.args(port, dir));
  const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  const proc: RedisProcess = {
    port,
    dir,
    output: () => tail,
    kill: async () => {
      started.delete(proc);
      if (!exited) {
        child.kill('SIGKILL');
        await Promise.race([exit, sleep(5000)]);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  started.add(proc);
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server ${argv.join(' ')} exited at start:\n${tail}`);
        const probe = new Redis({ host: REDIS_HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, ...options.probe });
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
      options.timeoutMs ?? 15_000,
      `redis-server on port ${port} to answer PING`,
      100,
    );
  } catch (error) {
    await proc.kill();
    throw error;
  }
  return proc;
}

/** Plain (non-TLS) server arguments: no persistence, loopback only. */
export function plainArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir];
}

/** A client for a test's own checks on one of these servers. */
export async function adminClient(port: number, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis({ host: REDIS_HOST, port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...options });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** `calls` of one command in INFO commandstats (0 when the command never ran). */
export async function commandCalls(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}
