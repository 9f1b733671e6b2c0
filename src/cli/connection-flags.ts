import { Option, type Command } from 'commander';
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
    .option('--timeout <ms>', 'timeout of each Redis command and source query', integer('--timeout', 1), 5000);
}

/** The connection the flags describe; warns once on stderr when certificate checks are off. */
export function connectionFrom(flags: ConnectionFlags): Connection {
  warnIfInsecure(flags.insecure);
  const tls: TlsOptions = {};
  if (flags.tlsCa !== undefined) tls.caFile = flags.tlsCa;
  if (flags.tlsCert !== undefined) tls.certFile = flags.tlsCert;
  if (flags.tlsKey !== undefined) tls.keyFile = flags.tlsKey;
  if (flags.insecure === true) tls.insecure = true;
  return { redisUrl: flags.redis, timeoutMs: flags.timeout, readFrom: flags.readFrom, tls };
}
