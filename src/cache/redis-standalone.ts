import { Redis, type RedisOptions } from 'ioredis';
import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { ConnectionError, UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactSecrets, redactUrl, urlProblem } from '../util/redact-url.js';
import { enforceReadOnly } from './read-only.js';
import { redisTlsFor, tlsHint, type TlsOptions } from './tls.js';
import { BATCH_READ_SCRIPT, INLINE_BYTES, INLINE_HASH_FIELDS, parseBatchReply } from './batch-read-script.js';
import type { CacheReader } from './types.js';

export interface RedisReaderOptions {
  /** Per-call timeout, ms. */
  timeoutMs: number;
  /** Read batches with the EVAL_RO script when the server allows it (default true; tests turn it off). */
  readScript?: boolean;
  /** Where to read: the master (default) or its replicas (Cluster, Sentinel: --read-from replica). */
  readFrom?: 'master' | 'replica';
  /** CA, client certificate and --insecure for TLS URLs (rediss://, rediss+sentinel://). */
  tls?: TlsOptions;
}

/** The structural subset of an ioredis pipeline this reader uses: read commands only. */
interface PipelineLike {
  strlen(key: Buffer): PipelineLike;
  hlen(key: Buffer): PipelineLike;
  type(key: Buffer): PipelineLike;
  getrangeBuffer(key: Buffer, start: number, end: number): PipelineLike;
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
  // ioredis parses the URL with WHATWG URL: refuse one it would not read as written (it throws on
  // some, and reads others with part of the password as the host) before it sees it.
  const problem = urlProblem(url);
  if (problem !== undefined) throw new UsageError(`--redis ${target} ${problem}`, { hint: PERCENT_ENCODE_HINT });
  const tls = redisTlsFor(/^rediss:/i.test(url), options.tls, target);
  const client = enforceReadOnly(new Redis(url, { ...clientOptions(options), ...(tls === undefined ? {} : { tls }) }));
  const failure = await connectOrFailure(client);
  if (failure !== undefined) {
    const { cause, error } = failure;
    throw new ConnectionError(`cannot connect to Redis at ${target}: ${redactSecrets(describe(cause), url)}`, {
      hint: (tls === undefined ? undefined : tlsHint(cause, options.tls)) ?? 'check --redis (or SHADOWCHECK_REDIS_URL) and that redis-server is running and reachable',
      cause: error,
    });
  }
  return readerForClient(client, target, options);
}

/**
 * Connects and pings. On failure the client is disconnected and both errors come back: `cause`
 * is the most telling one (a refused AUTH only shows on the 'error' event, while the command
 * itself just sees "Connection is closed"), `error` the one the command threw.
 */
export async function connectOrFailure(client: Redis): Promise<{ cause: unknown; error: unknown } | undefined> {
  let lastError: unknown;
  // Without a listener ioredis would log every connection error itself.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    client.disconnect();
    return { cause: lastError ?? error, error };
  }
}

/**
 * A reader around an ioredis client that is already connected (the Sentinel reader resolves its
 * master or replica first). It owns the client from now on: close() quits it.
 */
export function readerForClient(client: Redis, target: string, options: RedisReaderOptions): CacheReader {
  return new RedisStandaloneReader(client, target, options.timeoutMs, options.readScript ?? true);
}

/** The connection options every reader shares: lazy, bounded retries, fail fast (exit 3). */
export function clientOptions(options: RedisReaderOptions): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    // No per-command timeout: ioredis arms a timer per command, a real cost at 100k keys/s.
    // Each pipeline and SCAN call is bounded by one timer instead (withTimeout below).
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
    private readonly timeoutMs: number,
    /** Whether the server runs EVAL_RO for us; false after the first refusal (Redis < 7, ACL). */
    private scripted: boolean,
  ) {}

  async *scan(glob: string, count: number): AsyncIterable<Buffer[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.call(() => withTimeout(this.client.scanBuffer(cursor, 'MATCH', glob, 'COUNT', count), this.timeoutMs));
      cursor = next.toString();
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  async read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    if (this.scripted && keys.length > 0) {
      const limit = type === 'hash' ? hashFieldLimit(maxValueBytes) : maxValueBytes;
      const inline = type === 'hash' ? INLINE_HASH_FIELDS : INLINE_BYTES;
      const sent = this.client.callBuffer('EVAL_RO', BATCH_READ_SCRIPT, keys.length, ...keys, type, limit, inline) as Promise<unknown[]>;
      let reply: unknown[] | undefined;
      try {
        reply = await withTimeout(sent, this.timeoutMs);
      } catch (error) {
        if (!isScriptRefusal(error)) throw new ConnectionError(`lost the connection to Redis at ${this.target}: ${describe(error)}`, { cause: error });
        this.scripted = false;
      }
      if (reply !== undefined) {
        const { results, deferred } = parseBatchReply(reply, keys.length, type);
        if (deferred.length > 0) {
          const fetched = await this.readPipelined(
            deferred.map((i) => keys[i] as Buffer),
            type,
            maxValueBytes,
          );
          deferred.forEach((keyIndex, n) => (results[keyIndex] = fetched[n]));
        }
        return results as CacheRead[];
      }
    }
    return this.readPipelined(keys, type, maxValueBytes);
  }

  private readPipelined(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    return type === 'hash' ? this.readHashes(keys, maxValueBytes) : this.readStrings(keys, maxValueBytes);
  }

  /**
   * One round trip: GETRANGE 0..limit + PTTL per key. GETRANGE returns at most limit + 1 bytes, so a
   * value over the limit is never transferred whole (nor decoded), while the common case needs no
   * separate STRLEN round trip. The rare oversize or wrong-type keys get a follow-up STRLEN / TYPE.
   */
  private async readStrings(keys: readonly Buffer[], maxValueBytes: number): Promise<CacheRead[]> {
    const pipe = this.client.pipeline() as unknown as PipelineLike;
    for (const key of keys) pipe.getrangeBuffer(key, 0, maxValueBytes).pttl(key);
    const replies = await this.exec(pipe);

    const results = new Array<CacheRead>(keys.length);
    const followUps: { index: number; ask: 'strlen' | 'type' }[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [valueError, value] = replies[2 * i] as [Error | null, Buffer];
      const [pttlError, pttl] = replies[2 * i + 1] as [Error | null, number];
      const error = valueError ?? pttlError;
      if (error !== null) {
        if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
        else results[i] = { kind: 'error', message: error.message };
      } else if (pttl === -2) {
        results[i] = { kind: 'gone' };
      } else if (value.length > maxValueBytes) {
        followUps.push({ index: i, ask: 'strlen' });
      } else {
        results[i] = { kind: 'present', redisType: 'string', value, pttlMs: pttl };
      }
    }
    if (followUps.length > 0) await this.followUp(keys, followUps, results, 'string');
    return results;
  }

  /** Hash sizes come first (HLEN is O(1)), then HGETALL + PTTL for the hashes that fit. */
  private async readHashes(keys: readonly Buffer[], maxValueBytes: number): Promise<CacheRead[]> {
    const sizePipe = this.client.pipeline() as unknown as PipelineLike;
    for (const key of keys) sizePipe.hlen(key);
    const sizes = await this.exec(sizePipe);

    const results = new Array<CacheRead>(keys.length);
    const followUps: { index: number; ask: 'type' }[] = [];
    const fetch: number[] = [];
    const limit = hashFieldLimit(maxValueBytes);
    sizes.forEach(([error, size], i) => {
      if (error !== null) {
        if (isWrongType(error)) followUps.push({ index: i, ask: 'type' });
        else results[i] = { kind: 'error', message: error.message };
      } else if (size === 0) {
        results[i] = { kind: 'gone' };
      } else if (typeof size === 'number' && size > limit) {
        results[i] = { kind: 'too-large', redisType: 'hash', size };
      } else {
        fetch.push(i);
      }
    });

    if (fetch.length > 0) {
      const valuePipe = this.client.pipeline() as unknown as PipelineLike;
      for (const i of fetch) valuePipe.hgetallBuffer(keys[i] as Buffer).pttl(keys[i] as Buffer);
      const replies = await this.exec(valuePipe);
      fetch.forEach((keyIndex, n) => {
        const [valueError, value] = replies[2 * n] as [Error | null, Record<string, Buffer>];
        const [pttlError, pttl] = replies[2 * n + 1] as [Error | null, number];
        const error = valueError ?? pttlError;
        if (error !== null) {
          if (isWrongType(error)) followUps.push({ index: keyIndex, ask: 'type' });
          else results[keyIndex] = { kind: 'error', message: error.message };
        } else if (pttl === -2 || Object.keys(value).length === 0) {
          results[keyIndex] = { kind: 'gone' };
        } else {
          results[keyIndex] = { kind: 'present', redisType: 'hash', value, pttlMs: pttl };
        }
      });
    }
    if (followUps.length > 0) await this.followUp(keys, followUps, results, 'hash');
    return results;
  }

  /** The rare keys that need a second look: the real size of an oversize string, the type of a misfit. */
  private async followUp(
    keys: readonly Buffer[],
    followUps: readonly { index: number; ask: 'strlen' | 'type' }[],
    results: CacheRead[],
    expected: RedisValueType,
  ): Promise<void> {
    const pipe = this.client.pipeline() as unknown as PipelineLike;
    for (const { index, ask } of followUps) {
      if (ask === 'strlen') pipe.strlen(keys[index] as Buffer);
      else pipe.type(keys[index] as Buffer);
    }
    const replies = await this.exec(pipe);
    followUps.forEach(({ index, ask }, n) => {
      const [error, answer] = replies[n] as [Error | null, unknown];
      if (error !== null) results[index] = { kind: 'error', message: error.message };
      else if (ask === 'strlen') results[index] = { kind: 'too-large', redisType: expected, size: Number(answer) };
      else if (answer === 'none') results[index] = { kind: 'gone' };
      else results[index] = { kind: 'present', redisType: String(answer), value: Buffer.alloc(0), pttlMs: -1 };
    });
  }

  async size(): Promise<number> {
    return this.call(() => withTimeout(this.client.dbsize(), this.timeoutMs));
  }

  async replicaLagMs(): Promise<number | undefined> {
    const info = await this.call(() => withTimeout(this.client.info('replication'), this.timeoutMs));
    return replicaLagFromInfo(info);
  }

  /** QUIT, but never wait on a server that stopped answering: disconnect after --timeout. */
  async close(): Promise<void> {
    await withTimeout(this.client.quit(), this.timeoutMs).catch(() => this.client.disconnect());
  }

  private async exec(pipe: PipelineLike): Promise<[Error | null, unknown][]> {
    const replies = await this.call(() => withTimeout(pipe.exec(), this.timeoutMs));
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

/** The server cannot or may not run the read script: fall back to pipelines, once and for good. */
function isScriptRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /unknown command|NOPERM|NOSCRIPT|not allowed|disabled/i.test(message);
}

function isWrongType(error: Error): boolean {
  return error.message.startsWith('WRONGTYPE');
}

/** Rejects when `work` has not settled within `ms`: a server that stopped answering ends the audit. */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A replica's lag from INFO replication, ms: the time since it last heard from its master
 * (whole seconds, so one second is added), or since the link went down; undefined on a master.
 */
export function replicaLagFromInfo(info: string): number | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  if (field('role') !== 'slave') return undefined;
  if (field('master_link_status') !== 'up') {
    // -1 (or nothing) means the replica never reached its master: its data may be any age.
    const downFor = Number(field('master_link_down_since_seconds') ?? -1);
    return downFor < 0 ? Infinity : (downFor + 1) * 1000;
  }
  return (Number(field('master_last_io_seconds_ago') ?? 0) + 1) * 1000;
}

export { describe as describeRedisError };

function describe(error: unknown): string {
  // ioredis says "Protocol error ... Please report this." when something else answers the port.
  if (error instanceof Error && error.message.startsWith('Protocol error')) return 'the server does not speak the Redis protocol';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
