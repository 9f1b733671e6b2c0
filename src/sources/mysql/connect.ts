/**
 * Opening a MySQL / MariaDB loader: the pool (mysql2, imported here and only when a loader is
 * created), its TLS, and the first verified connection, which also detects the server's statement
 * timeout and the session's sql_mode.
 */
import mysql from 'mysql2/promise';
import type { SourceSpec } from '../../config/types.js';
import { cannotConnect, requireUrl } from '../errors.js';
import { positiveInt } from '../rows.js';
import { preferTls, withTlsHint } from '../tls.js';
import type { LoaderOptions, SourceLoader, SourceLoaderFactory } from '../types.js';
import { MysqlLoader } from './loader.js';
import { CLIENT_TIMEOUT_GRACE_MS, withQueryTimeout, type MysqlPoolLike } from './pool-like.js';
import { detectTimeoutMode, withoutBackslashMode, type TimeoutMode } from './session.js';
import { mysqlTls, type MysqlTls } from './tls.js';
import { exactTypeCast } from './type-cast.js';

/**
 * Opens a pool on the source's URL, verifies it, and returns a ready loader. TLS comes from the
 * URL's ssl-mode/ssl-ca/ssl-cert/ssl-key (./tls.ts); with ssl-mode=PREFERRED, a server
 * without TLS is connected to again in plaintext.
 */
export const createMysqlLoader: SourceLoaderFactory = async (spec, options) => {
  const tls = mysqlTls(requireUrl(spec), { source: spec.name, insecure: options.tlsInsecure === true });
  const open = (ssl: MysqlTls['ssl']) => openMysqlLoader(spec, options, tls.uri, ssl);
  const connecting = tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(undefined)) : open(tls.ssl);
  return connecting.catch((error: unknown) => {
    throw withTlsHint(error, 'mysql');
  });
};

function openMysqlLoader(spec: SourceSpec, options: LoaderOptions, uri: string, ssl: MysqlTls['ssl']): Promise<SourceLoader> {
  const pool = mysql.createPool({
    uri,
    ...(ssl === undefined ? {} : { ssl }),
    connectionLimit: positiveInt(options.maxConnections, 1),
    // Explicit options win over the URL's query string in mysql2, so these cannot be undone there.
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    dateStrings: ['DATE'],
    typeCast: exactTypeCast(spec.timezone),
    multipleStatements: false,
    connectTimeout: Math.max(10_000, positiveInt(options.timeoutMs, 5000)),
    enableKeepAlive: true,
  });
  return mysqlLoaderFromPool(pool, spec, options);
}

/** A ready loader over an existing pool. Verifies the connection; ends the pool if that fails. */
export async function mysqlLoaderFromPool(pool: MysqlPoolLike, spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  const timeoutMs = positiveInt(options.timeoutMs, 5000);
  let mode: TimeoutMode;
  let sqlMode: string | undefined;
  try {
    const conn = withQueryTimeout(await pool.getConnection());
    try {
      const [rows] = await conn.query({ sql: 'SELECT @@SESSION.sql_mode AS sql_mode', timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS });
      const current = Array.isArray(rows) ? (rows[0] as { sql_mode?: unknown } | undefined)?.sql_mode : undefined;
      sqlMode = typeof current === 'string' ? withoutBackslashMode(current) : undefined;
      mode = await detectTimeoutMode(conn, timeoutMs);
      conn.release();
    } catch (error) {
      conn.destroy();
      throw error;
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw cannotConnect(spec, error);
  }
  return new MysqlLoader(pool, spec, timeoutMs, mode, sqlMode, options);
}
