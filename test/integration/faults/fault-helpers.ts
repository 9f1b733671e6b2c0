/**
 * Helpers for the fault tests: the built CLI as a child process the test can signal, a client on a
 * private redis-server, and the shape of the JSON report. Every wait here has a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { BIN, ROOT, type CliResult } from '../../e2e/cli.js';
import { clientList, REDIS_HOST, waitFor, type RedisServer } from '../helpers/redis.js';

/** CLIENT LIST `cmd` names of the commands that read a value (and its PTTL) for a batch. */
export const VALUE_READS = ['get', 'getrange', 'pttl', 'hgetall', 'eval', 'eval_ro', 'evalsha', 'evalsha_ro'];

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the process has exited and its pipes are closed, with the time it did so. */
  done: Promise<CliResult & { endedAt: number; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far, while the process runs. */
  output(): { stdout: string; stderr: string };
  /** SIGKILLs the CLI if it is still running (for finally blocks). */
  kill(): void;
}

/**
 * Starts `shadowcheck <args>` from the built dist (no TTY, NO_COLOR). After `timeoutMs` the child
 * is SIGKILLed and `done` rejects: a hang fails the test instead of blocking it.
 */
export function startCli(args: readonly string[], timeoutMs = 40_000): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const done = new Promise<CliResult & { endedAt: number; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shadowcheck ${args.join(' ')} did not finish within ${timeoutMs} ms (killed)\nstdout:\n${stdout.slice(0, 2000)}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', () => (exited = true));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, endedAt: Date.now() });
    });
  });
  // The test awaits `done` itself; this keeps an early rejection from being reported as unhandled.
  done.catch(() => {});
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** A plain client on a private redis-server (db 0 is the server's own, nobody else uses it). */
export async function adminClient(server: RedisServer): Promise<{ redis: Redis; id: number }> {
  const redis = new Redis(server.port, REDIS_HOST, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => {});
  await redis.connect();
  return { redis, id: Number(await redis.client('ID')) };
}

/** Waits until a client other than `ownId` runs one of VALUE_READS on the private server. */
export async function waitForValueReads(redis: Redis, ownId: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => (await clientList(redis)).some((c) => c.id !== ownId && VALUE_READS.includes(c.cmd)),
    timeoutMs,
    'the audit to read values from the private redis-server',
  );
}

/** Clients of the private server other than `ownId`. */
export async function otherClients(redis: Redis, ownId: number): Promise<number[]> {
  return (await clientList(redis)).filter((c) => c.id !== ownId).map((c) => c.id);
}

export interface JsonReport {
  tool: string;
  incomplete?: boolean;
  abortReason?: string;
  summary: { sampled: number; match: number; error: number; skipped?: number; [name: string]: unknown };
  gate: { passed: boolean; failures: string[] };
}

/** Parses the CLI's `--format json` stdout; a failure shows the exit code and stderr. */
export function parseJsonReport(result: CliResult): JsonReport {
  try {
    return JSON.parse(result.stdout) as JsonReport;
  } catch (error) {
    throw new Error(`stdout is not a JSON report (${String(error)})\nexit ${String(result.code)}\nstdout: ${result.stdout.slice(0, 500)}\nstderr:\n${result.stderr}`);
  }
}

/** One family rules file over a table, or over a query when `query` is given. */
export function rulesFile(opts: { kind: 'postgres' | 'mysql'; url: string; pattern: string; table?: string; query?: string }): string {
  const load = opts.query !== undefined ? `    query: "${opts.query}"` : `    table: ${opts.table ?? 'items'}`;
  return [
    'version: 1',
    'sources:',
    `  main: { kind: ${opts.kind}, url: "${opts.url}" }`,
    'families:',
    '  - name: items',
    `    pattern: "${opts.pattern}"`,
    '    source: main',
    load,
    '    key: id',
    '    fields: [name]',
    '    ttl: 300s',
    '',
  ].join('\n');
}

/** Sets `prefix{id}` to the item's JSON for ids 1..n (expiring in 200 s), in pipelines of 1000. */
export async function seedItems(redis: Redis, prefix: string, n: number): Promise<void> {
  for (let from = 1; from <= n; from += 1000) {
    const pipe = redis.pipeline();
    for (let id = from; id <= Math.min(n, from + 999); id++) pipe.set(`${prefix}${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 200);
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  }
}

/** Resumes (SIGCONT) then kills a private server, whatever state the test left it in. */
export async function releaseServer(server: RedisServer | undefined): Promise<void> {
  if (server === undefined) return;
  try {
    server.process.kill('SIGCONT');
  } catch {
    // already gone
  }
  await server.kill();
}

export { sleep };
