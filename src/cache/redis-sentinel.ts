/**
 * Redis Sentinel: `redis+sentinel://[user:pass@]host:port,host:port/masterName[/db]`, or
 * `rediss+sentinel://...` for TLS to the sentinels and to the data nodes.
 *
 * ioredis asks the sentinels (in order, the first that answers wins) for the master's address, or
 * for a healthy replica's with --read-from replica, then connects there; the reader itself is the
 * standalone one around that client (same SCAN, batch script with fallback, DBSIZE, close).
 *
 * URL parts:
 *  - `user:pass@` authenticates to the master and replicas (their `requirepass` / ACL user);
 *  - `?sentinelPassword=...&sentinelUsername=...` authenticate to the sentinels themselves, when
 *    they have their own `requirepass`;
 *  - a sentinel's port defaults to 26379; the db to 0.
 */
import { isIPv6 } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { ConnectionError, UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactUrl } from '../util/redact-url.js';
import { enforceReadOnly } from './read-only.js';
import { describeRedisError, ReplyWatch } from './redis-errors.js';
import { clientOptions, connectDeadline, connectOrFailure, readerForClient, type RedisReaderOptions } from './redis-standalone.js';
import { certificateHint, redisTlsFor, tlsHint, type TlsOptions } from './tls.js';
import type { CacheReader } from './types.js';

export const DEFAULT_SENTINEL_PORT = 26379;

export interface SentinelAddress {
  host: string;
  port: number;
}

/** A parsed sentinel URL. Secrets stay here; `redacted` is what may be printed. */
export interface SentinelUrl {
  /** `rediss+sentinel:`: TLS to the sentinels and the data nodes. */
  secure: boolean;
  sentinels: SentinelAddress[];
  masterName: string;
  db: number;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** The URL with every password masked, e.g. `redis+sentinel://:***@h1:26379,h2:26379/mymaster`. */
  redacted: string;
}

// The credentials end at the last '@' of the authority, as WHATWG URL reads them: a password holding
// an unencoded '@' is still a password, never part of a sentinel address (which errors print).
const SENTINEL_URL = /^(rediss?)\+sentinel:\/\/(?:([^/?#]*)@)?([^/?#]*)(?:\/([^/?#]*))?(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/i;
const QUERY_PARAMS = new Set(['sentinelPassword', 'sentinelUsername']);

/**
 * Parses a sentinel URL. WHATWG URL cannot (a comma-separated host list is not a host), so this is
 * done by hand; anything it does not understand is a usage error that shows the URL redacted.
 */
export function parseSentinelUrl(url: string): SentinelUrl {
  const match = SENTINEL_URL.exec(url.trim());
  const shown = redactUrl(url);
  const usage = (problem: string, hint = 'expected redis+sentinel://[user:password@]host:port,host:port/masterName[/db]') =>
    new UsageError(`--redis ${shown}: ${problem}`, { hint });
  if (match === null) {
    // Most often a password with an unencoded '#', '/', '?' or '@' (the last '@' ends the credentials).
    throw usage('not a sentinel URL', `expected redis+sentinel://[user:password@]host:port,host:port/masterName[/db]; ${PERCENT_ENCODE_HINT}`);
  }
  const [, scheme = 'redis', userinfo, hostList = '', rawName = '', rawDb, query] = match;

  if (hostList.trim() === '') throw usage('no sentinel address');
  const sentinels = hostList.split(',').map((part) => parseAddress(part.trim(), usage));
  const masterName = decode(rawName, usage);
  if (masterName === '') throw usage('no master name (the path after the sentinel addresses)');
  let db = 0;
  if (rawDb !== undefined && rawDb !== '') {
    if (!/^\d+$/.test(rawDb)) throw usage(`the database "${rawDb}" is not a number`);
    db = Number(rawDb);
  }

  const parsed: Omit<SentinelUrl, 'redacted'> = { secure: scheme.toLowerCase() === 'rediss', sentinels, masterName, db };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), usage);
    const password = colon === -1 ? '' : decode(userinfo.slice(colon + 1), usage);
    // `redis://password@host` is not a thing: with no colon the userinfo is a user name (as ioredis reads it).
    if (user !== '') parsed.username = user;
    if (password !== '') parsed.password = password;
  }
  for (const [name, value] of new URLSearchParams(query ?? '')) {
    if (!QUERY_PARAMS.has(name)) throw usage(`unknown parameter "${name}" (known: ${[...QUERY_PARAMS].join(', ')})`);
    if (name === 'sentinelPassword' && value !== '') parsed.sentinelPassword = value;
    if (name === 'sentinelUsername' && value !== '') parsed.sentinelUsername = value;
  }
  return { ...parsed, redacted: redactedSentinelUrl(parsed) };
}

function parseAddress(text: string, usage: (problem: string) => UsageError): SentinelAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]@\s]+))(?::(\d*))?$/.exec(text);
  // Never quoted: a text that is no host:port is most often the rest of a password holding an
  // unencoded ',' or '@' that split the host list there.
  if (match === null) throw usage(`a sentinel address is not host:port (a password holding "," "@" "/" or "#" must be percent-encoded); ${PERCENT_ENCODE_HINT}`);
  const host = match[1] ?? match[2] ?? '';
  const port = match[3] === undefined || match[3] === '' ? DEFAULT_SENTINEL_PORT : Number(match[3]);
  if (port < 1 || port > 65535) throw usage(`sentinel port ${port} is out of range`);
  return { host, port };
}

function decode(text: string, usage: (problem: string, hint?: string) => UsageError): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usage('bad percent-encoding', PERCENT_ENCODE_HINT);
  }
}

/** The URL as reports show it: passwords masked, sentinel order and db kept. */
function redactedSentinelUrl(url: Omit<SentinelUrl, 'redacted'>): string {
  const user = url.username === undefined ? '' : encodeURIComponent(url.username);
  const auth = url.password !== undefined ? `${user}:***@` : user !== '' ? `${user}@` : '';
  const hosts = url.sentinels.map(formatAddress).join(',');
  const db = url.db === 0 ? '' : `/${url.db}`;
  const params = [
    ...(url.sentinelUsername === undefined ? [] : [`sentinelUsername=${encodeURIComponent(url.sentinelUsername)}`]),
    ...(url.sentinelPassword === undefined ? [] : ['sentinelPassword=***']),
  ];
  return `${url.secure ? 'rediss' : 'redis'}+sentinel://${auth}${hosts}/${encodeURIComponent(url.masterName)}${db}${params.length === 0 ? '' : `?${params.join('&')}`}`;
}

export function formatAddress(address: SentinelAddress): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The ioredis options for a sentinel-managed client: the standalone reader's, plus discovery. */
export function sentinelClientOptions(url: SentinelUrl, options: RedisReaderOptions): RedisOptions {
  const tls = redisTlsFor(url.secure, options.tls, url.redacted);
  return {
    ...clientOptions(options),
    sentinels: url.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: url.masterName,
    role: options.readFrom === 'replica' ? 'slave' : 'master',
    db: url.db,
    ...(url.username === undefined ? {} : { username: url.username }),
    ...(url.password === undefined ? {} : { password: url.password }),
    ...(url.sentinelUsername === undefined ? {} : { sentinelUsername: url.sentinelUsername }),
    ...(url.sentinelPassword === undefined ? {} : { sentinelPassword: url.sentinelPassword }),
    // Each SENTINEL query is bounded like any other call.
    sentinelCommandTimeout: Math.max(options.timeoutMs, 1000),
    // Two more rounds over the sentinels (a sentinel restarting, a failover in progress), then give
    // up: an interactive audit should say what is wrong, not wait forever.
    sentinelRetryStrategy: (times: number) => (times > 2 ? null : times * 250),
    // Not needed for a read-only audit of a few minutes, and it holds a subscription per sentinel.
    failoverDetector: false,
    ...(tls === undefined ? {} : { tls, sentinelTLS: tls, enableTLSForSentinelMode: true }),
  };
}

/**
 * Resolves the master (or a replica, with readFrom 'replica') through the sentinels and returns a
 * ready reader on it. The target names the node it reads: `redis+sentinel://h1:26379/mymaster
 * (master 10.0.0.5:6379)`. A ConnectionError (exit 3) says which step failed: no sentinel
 * reachable, no master by that name, no healthy replica, or the node itself refused us.
 */
export async function createSentinelReader(url: string, options: RedisReaderOptions): Promise<CacheReader> {
  const parsed = parseSentinelUrl(url);
  const clientOpts = sentinelClientOptions(parsed, options);
  const client = enforceReadOnly(new Redis(clientOpts));
  const role = options.readFrom === 'replica' ? 'replica' : 'master';
  const watch = new ReplyWatch(client, options.timeoutMs);
  // Every sentinel may be asked (each within --timeout), up to three rounds, then the node itself.
  const failure = await connectOrFailure(client, watch, connectDeadline(options.timeoutMs) * (3 * parsed.sentinels.length + 1));
  if (failure !== undefined) throw await connectionFailure(parsed, clientOpts, options.tls, role, failure.cause, failure.error);
  const stream = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  const node = stream?.remoteAddress === undefined ? 'address unknown' : formatAddress({ host: stream.remoteAddress, port: stream.remotePort ?? 0 });
  return readerForClient(client, `${parsed.redacted} (${role} ${node})`, options, watch);
}

/** What one sentinel says about the master, asked again after ioredis gave up (it keeps no reasons). */
type SentinelAnswer = { address: string } & ({ kind: 'unreachable'; reason: string } | { kind: 'no-master' } | { kind: 'no-replica' } | { kind: 'ok' });

async function connectionFailure(
  url: SentinelUrl,
  clientOpts: RedisOptions,
  tls: TlsOptions | undefined,
  role: 'master' | 'replica',
  last: unknown,
  error: unknown,
): Promise<ConnectionError> {
  const where = url.redacted;
  const secrets = [url.password, url.sentinelPassword].filter((s): s is string => s !== undefined && s !== '');
  const clean = (text: string) => secrets.reduce((t, secret) => t.split(secret).join('***'), text);
  const lastMessage = clean(describeRedisError(last));
  if (!/All sentinels are unreachable/.test(lastMessage)) {
    // The sentinels answered; the master or replica they named did not let us in.
    return new ConnectionError(`cannot connect to the ${role} of "${url.masterName}" found through ${where}: ${lastMessage}`, {
      hint: (url.secure ? tlsHint(last, tls) : undefined) ?? `check the user and password in --redis (they are the ${role}'s) and that the ${role} the sentinels name is reachable from here`,
      cause: error,
    });
  }
  const answers = await Promise.all(url.sentinels.slice(0, 8).map((s) => askSentinel(s, url, clientOpts, role)));
  const describeAnswer = (a: SentinelAnswer) =>
    a.kind === 'unreachable' ? `${a.address}: ${clean(a.reason)}` : a.kind === 'no-master' ? `${a.address}: no such master` : a.kind === 'no-replica' ? `${a.address}: no healthy replica` : `${a.address}: answers now`;
  const detail = answers.map(describeAnswer).join('; ');
  if (answers.every((a) => a.kind === 'unreachable')) {
    const refusedLogin = answers.some((a) => a.kind === 'unreachable' && /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(a.reason));
    const certificate = answers.map((a) => (a.kind === 'unreachable' ? certificateHint(new Error(a.reason)) : undefined)).find((h) => h !== undefined);
    return new ConnectionError(`cannot reach any sentinel of ${where} (${detail})`, {
      hint:
        certificate ??
        (refusedLogin
          ? 'the sentinels refused the login: give their own password as ?sentinelPassword=... in --redis'
          : 'check the sentinel addresses in --redis and that redis-sentinel is running and reachable from here'),
      cause: error,
    });
  }
  if (answers.some((a) => a.kind === 'no-replica') && !answers.some((a) => a.kind === 'ok')) {
    return new ConnectionError(`no sentinel of ${where} lists a healthy replica of "${url.masterName}" (${detail})`, {
      hint: 'the master has no connected replica right now; audit the master instead (--read-from master)',
      cause: error,
    });
  }
  if (!answers.some((a) => a.kind === 'ok' || a.kind === 'no-replica')) {
    return new ConnectionError(`no sentinel of ${where} knows a master named "${url.masterName}" (${detail})`, {
      hint: 'check the master name in --redis: SENTINEL MASTERS on a sentinel lists the names it monitors',
      cause: error,
    });
  }
  return new ConnectionError(`cannot resolve the ${role} of "${url.masterName}" through ${where}: ${lastMessage} (${detail})`, {
    hint: 'a failover may be in progress; run the audit again in a moment',
    cause: error,
  });
}

/** Asks one sentinel, read-only, what ioredis asked it: the master's address, or its replicas. */
async function askSentinel(address: SentinelAddress, url: SentinelUrl, clientOpts: RedisOptions, role: 'master' | 'replica'): Promise<SentinelAnswer> {
  const shown = formatAddress(address);
  const client = enforceReadOnly(
    new Redis({
      host: address.host,
      port: address.port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
      enableOfflineQueue: true,
      ...(clientOpts.connectTimeout === undefined ? {} : { connectTimeout: clientOpts.connectTimeout }),
      ...(clientOpts.sentinelCommandTimeout === undefined ? {} : { commandTimeout: clientOpts.sentinelCommandTimeout }),
      ...(url.sentinelUsername === undefined ? {} : { username: url.sentinelUsername }),
      ...(url.sentinelPassword === undefined ? {} : { password: url.sentinelPassword }),
      ...(clientOpts.sentinelTLS === undefined ? {} : { tls: clientOpts.sentinelTLS }),
    }),
  );
  let socketError: unknown;
  client.on('error', (error: unknown) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    const master = await client.call('SENTINEL', 'get-master-addr-by-name', url.masterName);
    if (!Array.isArray(master)) return { address: shown, kind: 'no-master' };
    if (role === 'replica') {
      const replicas = (await client.call('SENTINEL', 'replicas', url.masterName)) as unknown[];
      const healthy = replicas.filter((r) => {
        const fields = Array.isArray(r) ? r.map(String) : [];
        const flags = fields[fields.indexOf('flags') + 1] ?? '';
        return !/disconnected|s_down|o_down/.test(flags);
      });
      if (healthy.length === 0) return { address: shown, kind: 'no-replica' };
    }
    return { address: shown, kind: 'ok' };
  } catch (error) {
    if (/No such master/i.test(describeRedisError(error))) return { address: shown, kind: 'no-master' };
    return { address: shown, kind: 'unreachable', reason: describeRedisError(socketError ?? error) };
  } finally {
    client.disconnect();
  }
}
