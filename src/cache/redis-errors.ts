import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { ConnectionError } from '../errors.js';

/**
 * What went wrong with Redis, in plain words: a timeout is not a lost connection, a full server
 * (maxclients) or a missing ACL permission is neither, and ioredis' own phrasing ("Reached the max
 * retries per request limit", "Connection is closed.") never reaches the user.
 */

/** No reply came for --timeout ms while a command was waiting: the server is frozen, stopped or overloaded. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
  constructor(
    readonly timeoutMs: number,
    /** Whether any byte came back at all (a reply that never completes: a huge bulk header, not Redis). */
    readonly partial: boolean,
  ) {
    super(partial ? `its reply did not complete within ${timeoutMs} ms` : `no reply within ${timeoutMs} ms`);
  }
}

/** The one-line reason for an error from ioredis or the server, without driver jargon. */
export function describeRedisError(error: unknown): string {
  // ioredis says "Protocol error ... Please report this." when something else answers the port.
  if (error instanceof Error && error.message.startsWith('Protocol error')) return 'the server does not speak the Redis protocol';
  if (error instanceof NoAnswerError) return error.message;
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') return 'the connection was closed and could not be re-established';
  if (error instanceof Error && /^Connection is closed\.?$/.test(error.message)) return 'the connection was closed';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

const PERMISSION_HINT =
  'give the Redis user read permission on the audited keys and these read commands: ' +
  'ACL SETUSER <user> ~<pattern> +scan +get +getrange +strlen +hlen +hgetall +hkeys +hstrlen +llen +lrange +scard +smembers +zcard +zrange +pttl +type +dbsize +info +ping +eval_ro +memory|usage (or +@read)';

/**
 * The ConnectionError (exit 3) for a failure at connect time (`phase` 'connect') or while reading.
 * `last` is the last error the client emitted, which often says more than the command's own error
 * (a refused reconnect shows only there).
 */
export function redisFailure(error: unknown, last: unknown, target: string, phase: 'connect' | 'read', earlier: readonly unknown[] = []): ConnectionError {
  const reasons = [error, last, ...earlier].map((e) => (e === undefined ? '' : describeRedisError(e)));
  const said = (pattern: RegExp) => reasons.some((r) => pattern.test(r));
  const cause = error;
  if (said(/max number of clients reached/i)) {
    return new ConnectionError(`Redis at ${target} refuses new connections: it already serves as many clients as it allows (maxclients)`, {
      hint: 'run again when fewer clients are connected, or raise maxclients on the server (CONFIG GET maxclients)',
      cause,
    });
  }
  const noPerm = reasons.find((r) => /^NOPERM/.test(r));
  if (noPerm !== undefined) {
    return new ConnectionError(`the Redis user in --redis may not run a command shadowcheck needs at ${target}: ${noPerm}`, { hint: PERMISSION_HINT, cause });
  }
  const noAnswer = [error, last].find((e): e is NoAnswerError => e instanceof NoAnswerError);
  if (noAnswer !== undefined) {
    if (phase === 'connect') {
      return new ConnectionError(`cannot connect to Redis at ${target}: it accepted the connection but ${noAnswer.message}`, {
        hint: noAnswer.partial
          ? 'what listens there may not be a Redis server; check the host and port in --redis'
          : 'the server may be stopped (SIGSTOP), overloaded, or not a Redis server; check it, or raise --timeout if it is only slow',
        cause,
      });
    }
    return new ConnectionError(`Redis at ${target} stopped answering: ${noAnswer.message} (--timeout)`, {
      hint: 'the server may be frozen, paused or overloaded; a slow but healthy server needs a larger --timeout',
      cause,
    });
  }
  const why = [...new Set(reasons.slice(0, 2).filter((r) => r !== ''))].join('; ');
  if (phase === 'connect') {
    return new ConnectionError(`cannot connect to Redis at ${target}: ${why}`, {
      hint: 'check --redis (or SHADOWCHECK_REDIS_URL) and that redis-server is running and reachable',
      cause,
    });
  }
  if (said(/ECONNREFUSED/)) {
    return new ConnectionError(`lost the connection to Redis at ${target}: the server closed it and now refuses new connections (it was stopped or killed)`, {
      hint: 'check that redis-server is running, then run the audit again',
      cause,
    });
  }
  return new ConnectionError(`lost the connection to Redis at ${target}: ${reasons[0] ?? why}`, {
    hint: 'check that redis-server is running and reachable, then run the audit again',
    cause,
  });
}

/**
 * Per-command deadlines without a timer per command: a call fails only when the connection
 * received nothing for `timeoutMs` while the call waited. A healthy server streaming a large reply
 * (or answering the batches queued before this one) keeps every waiting call alive; a frozen one
 * fails them all after `timeoutMs`. The last error the client emitted is kept for the message.
 */
export class ReplyWatch {
  private lastDataAt = 0;
  private received = false;
  /** The last errors the client emitted (ioredis emits connection errors there, not on commands), newest last. */
  readonly errors: unknown[] = [];
  private readonly hooked = new WeakSet<object>();

  constructor(
    private readonly client: Redis,
    readonly timeoutMs: number,
  ) {
    // Without a listener ioredis would log every connection error itself.
    client.on('error', (error: unknown) => {
      // A full server's refusal comes first, then the broken pipe it leaves: keep both.
      this.errors.push(error);
      if (this.errors.length > 4) this.errors.shift();
    });
    // A new socket after a reconnect is watched too.
    client.on('connect', () => this.hook());
    this.hook();
  }

  get lastError(): unknown {
    return this.errors[this.errors.length - 1];
  }

  private hook(): void {
    const stream = this.client.stream as { on?: (event: string, listener: (chunk: Buffer | string) => void) => unknown } | undefined;
    if (stream?.on === undefined || this.hooked.has(stream)) return;
    this.hooked.add(stream);
    stream.on('data', (chunk: Buffer | string) => {
      this.lastDataAt = Date.now();
      this.received = true;
      // A server that refuses us (maxclients) writes one error line and closes at once: ioredis
      // then reports only the broken pipe. Before the connection is ready, keep that line.
      if (this.client.status !== 'ready' && chunk[0] === '-'.charCodeAt(0)) {
        this.errors.push(new Error(chunk.toString().slice(1, 200).split('\r\n')[0]));
      }
    });
  }

  /** Runs `work`, failing with a NoAnswerError once nothing came back for `timeoutMs` (or `deadlineMs`, when given, in all). */
  async run<T>(work: () => Promise<T>, deadlineMs?: number): Promise<T> {
    this.hook();
    const started = Date.now();
    const receivedBefore = this.received;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const check = () => {
        this.hook();
        const now = Date.now();
        const idle = now - Math.max(started, this.lastDataAt);
        const overall = deadlineMs === undefined ? Infinity : deadlineMs - (now - started);
        if (idle >= this.timeoutMs || overall <= 0) {
          reject(new NoAnswerError(deadlineMs ?? this.timeoutMs, this.received && !receivedBefore));
        } else {
          timer = setTimeout(check, Math.min(this.timeoutMs - idle, overall));
        }
      };
      timer = setTimeout(check, Math.min(this.timeoutMs, deadlineMs ?? Infinity));
    });
    try {
      return await Promise.race([work(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * What a server says on its own right after accepting a connection, before any command: a full
 * server (maxclients) writes its error line and closes. ioredis often reports only the broken pipe
 * (its first write meets the closed socket, and the reset discards the unread line), so a refused
 * connection is asked once more, sending nothing. Plain TCP only; undefined when it says nothing.
 */
export async function greetingError(host: string, port: number, waitMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = '';
    const done = (error: Error | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    socket.on('error', () => done(undefined));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n') || text.length > 200) done(text.startsWith('-') ? new Error(text.slice(1, 200).split('\r\n')[0]) : undefined);
    });
    socket.on('end', () => done(text.startsWith('-') ? new Error(text.slice(1, 200).split('\r\n')[0]) : undefined));
  });
}
