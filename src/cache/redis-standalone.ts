import { Redis, type RedisOptions } from 'ioredis';
import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { ConnectionError, UsageError } from '../errors.js';
import { redactUrl } from '../util/redact-url.js';
import type { CacheReader } from './types.js';

export interface RedisReaderOptions {
  /** Per-command timeout, ms. */
  timeoutMs: number;
}

/** The structural subset of an ioredis client this reader uses: read commands only. */
interface PipelineLike {
  strlen(key: Buffer): PipelineLike;
  hlen(key: Buffer): PipelineLike;
  type(key: Buffer): PipelineLike;
  getBuffer(key: Buffer): PipelineLike;
  hgetallBuffer(key: Buffer): PipelineLike;
  pttl(key: Buffer): PipelineLike;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * Connects to a standalone Redis (redis:// or rediss://) and returns a ready reader.
 * Fails fast with a ConnectionError rather than retrying forever, as an interactive tool should.
 */
export async function createRedisReader(url: string, options: RedisReaderOptions): Promise<CacheReader> {
  const target = redactUrl(url);
  const client = new Redis(url, clientOptions(options));
  client.on('error', () => {
    // Errors surface through the awaited commands; without a listener ioredis would log them itself.
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new ConnectionError(`cannot connect to Redis at ${target}: ${describe(error)}`, {
      hint: 'check --redis (or SHADOWCHECK_REDIS_URL) and that redis-server is running and reachable',
      cause: error,
    });
  }
  return new RedisStandaloneReader(client, target);
}

function clientOptions(options: RedisReaderOptions): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 1,
    // Reconnect briefly after a blip; give up after a few tries so a dead server ends the audit (exit 3).
    retryStrategy: (times) => (times > 3 ? null : Math.min(times * 200, 1000)),
    enableReadyCheck: true,
    // Never let ioredis turn a read into a write, e.g. by auto-pipelining CLIENT SETNAME.
    connectionName: undefined,
  };
}

class RedisStandaloneReader implements CacheReader {
  constructor(
    private readonly client: Redis,
    readonly target: string,
  ) {}

  async *scan(glob: string, count: number): AsyncIterable<Buffer[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.call(() => this.client.scanBuffer(cursor, 'MATCH', glob, 'COUNT', count));
      cursor = next.toString();
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  async read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    // Round trip 1: sizes. STRLEN/HLEN answer 0 for a missing key and WRONGTYPE for another type,
    // so TYPE is only asked for the (rare) keys of the wrong type.
    const sizePipe = this.client.pipeline() as unknown as PipelineLike;
    for (const key of keys) {
      if (type === 'hash') sizePipe.hlen(key);
      else sizePipe.strlen(key);
    }
    const sizes = await this.exec(sizePipe);

    const results: CacheRead[] = new Array<CacheRead>(keys.length);
    const wrongType: number[] = [];
    const fetch: number[] = [];
    const limit = type === 'hash' ? hashFieldLimit(maxValueBytes) : maxValueBytes;
    sizes.forEach(([error, size], i) => {
      if (error !== null) {
        if (/WRONGTYPE/.test(error.message)) wrongType.push(i);
        else results[i] = { kind: 'error', message: error.message };
      } else if (size === 0) {
        results[i] = { kind: 'gone' };
      } else if (typeof size === 'number' && size > limit) {
        results[i] = { kind: 'too-large', redisType: type, size };
      } else {
        fetch.push(i);
      }
    });

    // Round trip 2: the values that fit, each with its PTTL read right after it.
    const valuePipe = this.client.pipeline() as unknown as PipelineLike;
    for (const i of fetch) {
      const key = keys[i] as Buffer;
      if (type === 'hash') valuePipe.hgetallBuffer(key);
      else valuePipe.getBuffer(key);
      valuePipe.pttl(key);
    }
    for (const i of wrongType) valuePipe.type(keys[i] as Buffer);
    const replies = fetch.length + wrongType.length === 0 ? [] : await this.exec(valuePipe);

    fetch.forEach((keyIndex, n) => {
      const [valueError, value] = replies[2 * n] ?? [null, null];
      const [pttlError, pttl] = replies[2 * n + 1] ?? [null, null];
      const error = valueError ?? pttlError;
      if (error !== null) {
        results[keyIndex] = /WRONGTYPE/.test(error.message)
          ? { kind: 'present', redisType: 'other', value: Buffer.alloc(0), pttlMs: -1 }
          : { kind: 'error', message: error.message };
      } else if (value === null || pttl === -2 || (type === 'hash' && isEmptyObject(value))) {
        results[keyIndex] = { kind: 'gone' };
      } else {
        results[keyIndex] = { kind: 'present', redisType: type, value: value as Buffer, pttlMs: pttl as number };
      }
    });
    wrongType.forEach((keyIndex, n) => {
      const [error, actual] = replies[2 * fetch.length + n] ?? [null, null];
      results[keyIndex] =
        error !== null
          ? { kind: 'error', message: error.message }
          : actual === 'none'
            ? { kind: 'gone' }
            : { kind: 'present', redisType: String(actual), value: Buffer.alloc(0), pttlMs: -1 };
    });
    return results;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async exec(pipe: PipelineLike): Promise<[Error | null, unknown][]> {
    const replies = await this.call(() => pipe.exec());
    if (replies === null) throw new ConnectionError(`lost the connection to Redis at ${this.target}`);
    return replies;
  }

  /** Connection-level failures end the audit (exit 3); per-command errors come back as values. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new ConnectionError(`lost the connection to Redis at ${this.target}: ${describe(error)}`, { cause: error });
    }
  }
}

/** Hash sizes are field counts (HLEN is O(1), byte size is not): allow one field per 64 bytes of the limit. */
export function hashFieldLimit(maxValueBytes: number): number {
  return Math.max(1, Math.floor(maxValueBytes / 64));
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && Object.keys(value).length === 0;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** Parses --redis. Cluster and Sentinel URLs are recognised so the message says what is missing. */
export function assertStandaloneUrl(url: string): void {
  if (/^redis\+(cluster|sentinel):\/\//.test(url)) {
    throw new UsageError(`${redactUrl(url)}: Redis Cluster and Sentinel are not supported yet; use a redis:// or rediss:// URL`);
  }
  if (!/^rediss?:\/\//.test(url)) {
    throw new UsageError(`--redis ${redactUrl(url)}: expected a URL like redis://host:6379/0 or rediss://host:6380/0`);
  }
}
