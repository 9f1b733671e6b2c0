/**
 * Opening a PostgreSQL loader: the pool (node-postgres, imported here and only when a loader is
 * created), its session options and TLS, and the first verified connection.
 */
import pg from 'pg';
import type { SourceSpec } from '../../config/types.js';
import { cannotConnect, requireUrl } from '../errors.js';
import { positiveInt } from '../rows.js';
import { preferTls, withTlsHint } from '../tls.js';
import type { LoaderOptions, SourceLoader, SourceLoaderFactory } from '../types.js';
import { PostgresLoader } from './loader.js';
import type { PgPoolLike } from './pool-like.js';
import { postgresTls, type PostgresTls } from './tls.js';
import { pgTypeParsers } from './type-parsers.js';

/** Time past the statement timeout after which the client gives up on a silent server. */
const CLIENT_TIMEOUT_GRACE_MS = 5000;

/**
 * Opens a pool on the source's URL, verifies it with `SELECT 1`, and returns a ready loader. TLS
 * comes from the URL's sslmode/sslrootcert/sslcert/sslkey with libpq's meaning (./tls.ts);
 * with sslmode prefer or allow, a server without TLS is connected to again in plaintext.
 */
export const createPostgresLoader: SourceLoaderFactory = async (spec, options) => {
  const tls = postgresTls(requireUrl(spec), { source: spec.name, insecure: options.tlsInsecure === true });
  const open = (ssl: PostgresTls['ssl']) => openPostgresLoader(spec, options, tls, ssl);
  const connecting = tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(false)) : open(tls.ssl);
  return connecting.catch((error: unknown) => {
    throw withTlsHint(error, 'postgres');
  });
};

/**
 * The URL's own `options` (say `-c search_path=app`) would replace the pool's, since pg lets the
 * connection string win: take them out of the URL and put ours after them, so both apply and ours
 * win where they name the same setting.
 */
export function withSessionOptions(connectionString: string, ours: string): { connectionString: string; options: string } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, options: ours };
  }
  const theirs = url.searchParams.get('options');
  if (theirs === null) return { connectionString, options: ours };
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: `${theirs} ${ours}` };
}

function openPostgresLoader(spec: SourceSpec, options: LoaderOptions, tls: PostgresTls, ssl: PostgresTls['ssl']): Promise<SourceLoader> {
  const timeoutMs = positiveInt(options.timeoutMs, 5000);
  // Defence in depth: every transaction of these sessions defaults to read-only and is
  // time-bounded from the first statement. Batches still run in BEGIN READ ONLY, which a query
  // cannot undo (a session default can be changed by set_config from within a SELECT).
  const session = withSessionOptions(tls.connectionString, `-c default_transaction_read_only=on -c statement_timeout=${timeoutMs} -c lock_timeout=${timeoutMs}`);
  const pool = new pg.Pool({
    connectionString: session.connectionString,
    ...(ssl === undefined ? {} : { ssl }),
    ...(tls.sslnegotiation === undefined ? {} : { sslnegotiation: tls.sslnegotiation }),
    max: positiveInt(options.maxConnections, 1),
    types: pgTypeParsers(spec.timezone),
    // The URL's own application_name, if any, wins (the connection string overrides config).
    application_name: 'shadowcheck',
    connectionTimeoutMillis: Math.max(10_000, timeoutMs),
    // A client-side backstop for a server that stops answering; statement_timeout fires first.
    query_timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    options: session.options,
    keepAlive: true,
    allowExitOnIdle: true,
  });
  return postgresLoaderFromPool(pool, spec, options);
}

/** A ready loader over an existing pool. Verifies the connection; ends the pool if that fails. */
export async function postgresLoaderFromPool(pool: PgPoolLike, spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  // An idle pooled client whose connection dies emits 'error' on the pool; unhandled, it would
  // crash the process. The pool has already discarded that client, the next batch opens another.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT 1');
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw cannotConnect(spec, error);
  }
  return new PostgresLoader(pool, spec, positiveInt(options.timeoutMs, 5000), options);
}
