import { Redis, type RedisOptions } from 'ioredis';
import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';
import { ConnectionError, UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactSecrets, redactUrl, urlProblem } from '../util/redact-url.js';
import { BATCH_READ_SCRIPT, HASH_FIELD_SLACK, INLINE_BYTES, INLINE_HASH_FIELDS, parseBatchReply, SCRIPT_BUDGET_BYTES } from './batch-read-script.js';
import { isCollectionType, readCollections } from './collection-reads.js';
import { hashFieldLimit, readHashes, readStrings, type PipelineLike, type PipelineRunner, type Replies } from './pipelined-reads.js';
import { keysExist, randomKeys } from './random-keys.js';
import { enforceReadOnly } from './read-only.js';
import { quietReadyCheck } from './ready-check.js';
import { describeRedisError, greetingError, redisFailure, ReplyWatch } from './redis-errors.js';
import { redisTlsFor, tlsHint, type TlsOptions } from './tls.js';
import type { CacheReader } from './types.js';

export interface RedisReaderOptions {
  /** Per-command timeout, ms: a command fails when the connection receives nothing for this long. */
  timeoutMs: number;
  /** Read batches with the EVAL_RO script when the server allows it (default true; tests turn it off). */
  readScript?: boolean;
  /** Where to read: the master (default) or its replicas (Cluster, Sentinel: --read-from replica). */
  readFrom?: 'master' | 'replica';
  /** CA, client certificate and --insecure for TLS URLs (rediss://, rediss+sentinel://). */
  tls?: TlsOptions;
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
  const watch = new ReplyWatch(client, options.timeoutMs);
  const failure = await connectOrFailure(client, watch, connectDeadline(options.timeoutMs));
  if (failure !== undefined) {
    const { cause, error } = failure;
    if (tls === undefined && client.options.path === undefined && /closed|EPIPE|ECONNRESET/.test(describeRedisError(cause))) {
      const said = await greetingError(client.options.host ?? '127.0.0.1', client.options.port ?? 6379, Math.min(connectDeadline(options.timeoutMs), 2000));
      if (said !== undefined) watch.errors.push(said);
    }
    const plain = redisFailure(error, cause, target, 'connect', watch.errors);
    const tlsAdvice = tls === undefined ? undefined : tlsHint(cause, options.tls);
    const hint = tlsAdvice ?? plain.hint;
    throw new ConnectionError(redactSecrets(plain.message, url), { ...(hint === undefined ? {} : { hint }), cause: error });
  }
  return readerForClient(client, target, options, watch);
}

/** Connecting and the first command (the ready check, PING) get --timeout together, at least a second. */
export function connectDeadline(timeoutMs: number): number {
  return Math.max(timeoutMs, 1000);
}

/**
 * Connects and pings within `deadlineMs`: a server that accepts and never answers (frozen, or not
 * Redis) fails like one that refuses. On failure the client is disconnected and both errors come
 * back: `cause` is the most telling one (a refused AUTH only shows on the 'error' event, while the
 * command itself just sees "Connection is closed"), `error` the one the command threw.
 */
export async function connectOrFailure(client: Redis, watch: ReplyWatch, deadlineMs: number): Promise<{ cause: unknown; error: unknown } | undefined> {
  quietReadyCheck(client);
  try {
    await watch.run(async () => {
      await client.connect();
      await client.ping();
    }, deadlineMs);
    return undefined;
  } catch (error) {
    client.disconnect();
    // disconnect() only half-closes: a server that never answers would keep the socket, and the
    // process, alive until the kernel gives up.
    (client.stream as { destroy?: () => void } | undefined)?.destroy?.();
    return { cause: watch.lastError ?? error, error };
  }
}

/**
 * A reader around an ioredis client that is already connected (the Sentinel reader resolves its
 * master or replica first). It owns the client from now on: close() quits it.
 */
export function readerForClient(client: Redis, target: string, options: RedisReaderOptions, watch?: ReplyWatch): CacheReader {
  return new RedisStandaloneReader(client, target, watch ?? new ReplyWatch(client, options.timeoutMs), options.readScript ?? true);
}

/** The connection options every reader shares: lazy, bounded retries, fail fast (exit 3). */
export function clientOptions(options: RedisReaderOptions): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    connectTimeout: connectDeadline(options.timeoutMs),
    // No per-command timer: ioredis arms one per command, a real cost at 100k keys/s. The reader's
    // ReplyWatch fails a call once the connection has received nothing for --timeout instead.
    maxRetriesPerRequest: 1,
    // Reconnect briefly after a blip; give up after a few tries so a dead server ends the audit (exit 3).
    retryStrategy: (times) => (times > 3 ? null : Math.min(times * 200, 1000)),
    // Waits for a Redis still loading its data, after connecting and after a reconnect; silent
    // when the ACL user may not run INFO (quietReadyCheck, installed by connectOrFailure).
    enableReadyCheck: true,
    // Never let ioredis turn a read into a write, e.g. by auto-pipelining CLIENT SETNAME.
    connectionName: undefined,
  };
}

class RedisStandaloneReader implements CacheReader {
  private readonly run: PipelineRunner;

  constructor(
    private readonly client: Redis,
    readonly target: string,
    private readonly watch: ReplyWatch,
    /** Whether the server runs EVAL_RO for us; false after the first refusal (Redis < 7, ACL). */
    private scripted: boolean,
  ) {
    this.run = {
      pipeline: () => this.client.pipeline() as unknown as PipelineLike,
      exec: (pipe) => this.exec(pipe),
    };
  }

  async *scan(glob: string, count: number, beforeCommand?: () => Promise<void>): AsyncIterable<Buffer[]> {
    let cursor = '0';
    do {
      // Every SCAN call counts against --rate, also one that returns no key.
      await beforeCommand?.();
      const [next, keys] = await this.call(() => this.client.scanBuffer(cursor, 'MATCH', glob, 'COUNT', count));
      cursor = next.toString();
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  async read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    // The read script handles strings and hashes only: collections always take the pipelined path.
    const scripted = this.scripted && keys.length > 0 && !isCollectionType(type) ? await this.readScripted(keys, type, maxValueBytes) : undefined;
    return this.refusedToUser(scripted ?? (await this.readPipelined(keys, type, maxValueBytes)));
  }

  /**
   * Script calls until every key is handled (each stops at its byte budget), then the large values
   * it left out, with plain commands. Undefined when the server refuses the script.
   */
  private async readScripted(keys: readonly Buffer[], type: 'string' | 'hash', maxValueBytes: number): Promise<CacheRead[] | undefined> {
    const limit = type === 'hash' ? hashFieldLimit(maxValueBytes) : maxValueBytes;
    const results = new Array<CacheRead>(keys.length);
    const deferred: { index: number; bytes: number }[] = [];
    for (let from = 0; from < keys.length; ) {
      const part = from === 0 ? keys : keys.slice(from);
      let reply: unknown[];
      try {
        reply = await this.watch.run(
          () =>
            this.client.callBuffer('EVAL_RO', BATCH_READ_SCRIPT, part.length, ...part, type, limit, INLINE_BYTES, SCRIPT_BUDGET_BYTES, INLINE_HASH_FIELDS, HASH_FIELD_SLACK) as Promise<unknown[]>,
        );
      } catch (error) {
        if (from === 0 && isScriptRefusal(error)) {
          this.scripted = false;
          return undefined;
        }
        throw this.failure(error);
      }
      const parsed = parseBatchReply(reply, type);
      if (parsed.handled < 1) throw new Error(`the batch read script handled no key of ${part.length}`);
      parsed.results.forEach((read, i) => {
        if (read !== undefined) results[from + i] = read;
      });
      for (const d of parsed.deferred) deferred.push({ index: from + d.index, bytes: d.bytes });
      from += parsed.handled;
    }
    if (deferred.length > 0) {
      const deferredKeys = deferred.map((d) => keys[d.index] as Buffer);
      const fetched =
        type === 'hash'
          ? await readHashes(this.run, deferredKeys, maxValueBytes)
          : await readStrings(
              this.run,
              deferredKeys,
              maxValueBytes,
              deferred.map((d) => d.bytes),
            );
      deferred.forEach((d, n) => (results[d.index] = fetched[n] as CacheRead));
    }
    return results;
  }

  private readPipelined(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    if (isCollectionType(type)) return readCollections(this.run, keys, type, maxValueBytes);
    return type === 'hash' ? readHashes(this.run, keys, maxValueBytes) : readStrings(this.run, keys, maxValueBytes);
  }

  /**
   * A command the ACL refuses fails every key alike: say so once, plainly, instead of one error per
   * key. A key the ACL hides (`~pattern`) stays that key's own error/cache-error.
   */
  private refusedToUser(reads: CacheRead[]): CacheRead[] {
    const refused = reads.find((read) => read.kind === 'error' && /^NOPERM\b.*\bcommand\b/i.test(read.message));
    if (refused?.kind === 'error') throw this.failure(new Error(refused.message));
    return reads;
  }

  async size(): Promise<number> {
    return this.call(() => this.client.dbsize());
  }

  randomKeys(count: number, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
    return randomKeys(this.run, count, beforeCommand, (error) => this.failure(error));
  }

  exists(keys: readonly Buffer[]): Promise<boolean[]> {
    return keysExist(this.run, keys, (error) => this.failure(error));
  }

  async replicaLagMs(): Promise<number | undefined> {
    const info = await this.call(() => this.client.info('replication'));
    return replicaLagFromInfo(info);
  }

  /** QUIT, but never wait on a server that stopped answering: disconnect after --timeout. */
  async close(): Promise<void> {
    await this.watch.run(() => this.client.quit()).catch(() => this.client.disconnect());
  }

  private async exec(pipe: PipelineLike): Promise<Replies> {
    const replies = await this.call(() => (pipe as unknown as { exec(): Promise<Replies | null> }).exec());
    if (replies === null) throw this.failure(new Error('Connection is closed.'));
    return replies;
  }

  /** Connection-level failures end the audit (exit 3); per-command errors come back as values. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.watch.run(fn);
    } catch (error) {
      throw this.failure(error);
    }
  }

  private failure(error: unknown): ConnectionError {
    return redisFailure(error, this.watch.lastError, this.target, 'read', this.watch.errors);
  }
}

export { hashFieldLimit } from './pipelined-reads.js';

/** The server cannot or may not run the read script: fall back to pipelines, once and for good. */
function isScriptRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /unknown command|NOPERM|NOSCRIPT|not allowed|disabled|no permissions/i.test(message);
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

export { describeRedisError, quietReadyCheck };
