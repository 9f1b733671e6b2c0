import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactUrl, urlProblem } from '../util/redact-url.js';
import type { TlsOptions } from '../cache/tls.js';
import { warnIfInsecure } from '../cache/tls.js';
import { integer } from './parse.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';

export interface ConnectionFlags {
  redis: string;
  timeout: number;
  readFrom: 'master' | 'replica';
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
}

/** How to reach Redis and the sources, as audit and explain both take it. */
export interface Connection {
  redisUrl: string;
  timeoutMs: number;
  readFrom: 'master' | 'replica';
  tls: TlsOptions;
}

/** The flags that say how to connect, defined once for every command that connects. */
export function addConnectionFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--redis <url>', 'redis://, rediss:// (TLS), redis+cluster://h:p,h:p or redis+sentinel://h:p,h:p/master')
        .env('SHADOWCHECK_REDIS_URL')
        .default(DEFAULT_REDIS_URL),
    )
    .addOption(new Option('--read-from <role>', 'read from the masters or their replicas (Cluster, Sentinel)').choices(['master', 'replica']).default('master'))
    .option('--tls-ca <file>', 'CA certificate(s) to verify the Redis server with (PEM)')
    .option('--tls-cert <file>', 'client certificate for Redis (PEM)')
    .option('--tls-key <file>', 'client certificate key for Redis (PEM)')
    .option('--insecure', 'accept any TLS certificate from Redis and the sources (encrypted, not authenticated)')
    .option('--timeout <ms>', 'timeout of each Redis command and source query', integer('--timeout'), 5000);
}

/** The connection the flags describe; warns once on stderr when certificate checks are off. */
export function connectionFrom(flags: ConnectionFlags): Connection {
  checkRedisUrl(flags.redis);
  warnIfInsecure(flags.insecure);
  const tls: TlsOptions = {};
  if (flags.tlsCa !== undefined) tls.caFile = flags.tlsCa;
  if (flags.tlsCert !== undefined) tls.certFile = flags.tlsCert;
  if (flags.tlsKey !== undefined) tls.keyFile = flags.tlsKey;
  if (flags.insecure === true) tls.insecure = true;
  return { redisUrl: flags.redis, timeoutMs: flags.timeout, readFrom: flags.readFrom, tls };
}

/**
 * Checks a redis:// or rediss:// URL before anything connects (the cache module checks the other
 * schemes), so that a URL the driver would throw on (`TypeError: Invalid URL`, exit 70) or
 * misread is a usage error (exit 2) quoting it with its password masked. Not a commander
 * argParser: commander quotes the raw argument, password and all, in its own message. The logical
 * database is checked here too: ioredis sends `SELECT NaN` for `/abc`, and the reply error escaped
 * as an uncaught exception (exit 1, read as "gate failed").
 */
export function checkRedisUrl(url: string): void {
  if (!/^rediss?:/i.test(url)) return;
  const problem = urlProblem(url);
  if (problem !== undefined) throw new UsageError(`--redis ${redactUrl(url)} ${problem}`, { hint: PERCENT_ENCODE_HINT });
  if (!/^\/?(\d{1,9})?\/?$/.test(new URL(url).pathname)) {
    throw new UsageError(`--redis ${redactUrl(url)}: the database (the path after the port) must be a number from 0 to 999999999`, { hint: 'for example redis://127.0.0.1:6379/0' });
  }
}
