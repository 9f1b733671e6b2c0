/** What a mysql2 error means to the loader: a lost connection, a timeout, or a query problem. */
import { errorCode, errorMessage, NETWORK_ERROR_CODES } from '../errors.js';

/** The server's error number (mysql2 `errno`), if any. */
export function errno(error: unknown): number | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { errno?: unknown }).errno : undefined;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Timeouts: 1969 ER_STATEMENT_TIMEOUT (MariaDB max_statement_time), 3024 ER_QUERY_TIMEOUT (MySQL
 * max_execution_time), 1317 ER_QUERY_INTERRUPTED (KILL QUERY), 1205 ER_LOCK_WAIT_TIMEOUT, and
 * mysql2's client-side timeout. mysql2 leaves `code` undefined for MariaDB-only errors, so errno
 * decides.
 */
const TIMEOUT_ERRNOS: ReadonlySet<number> = new Set([1969, 3024, 1317, 1205]);

/**
 * Connection-level: the server refused or dropped us (access denied, unknown database, too many
 * connections, shutdown, connection killed, server gone / lost) or mysql2 marked the error fatal.
 * 1698 ER_ACCESS_DENIED_NO_PASSWORD_ERROR is how MariaDB refuses some unknown user names (it
 * answers those with a random authentication plugin, so that user names cannot be probed).
 */
const CONNECTION_ERRNOS: ReadonlySet<number> = new Set([1040, 1044, 1045, 1049, 1053, 1077, 1080, 1129, 1130, 1203, 1226, 1698, 1927, 2002, 2003, 2006, 2013]);
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_HANDSHAKE_TWICE',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN',
  'ER_SHUTDOWN_COMPLETE',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_NOT_SUPPORTED_AUTH_MODE',
]);

/**
 * The server refused a new connection for a connection limit: 1040 ER_CON_COUNT_ERROR
 * (max_connections), 1203 ER_TOO_MANY_USER_CONNECTIONS (the max_user_connections variable), and
 * 1226 ER_USER_LIMIT_REACHED for an account's MAX_USER_CONNECTIONS (not its hourly limits, which
 * waiting for a connection does not lift). The loader then runs fewer batches at once (connection-cap.ts).
 */
export function isMysqlConnectionLimit(error: unknown): boolean {
  const number = errno(error);
  const code = errorCode(error);
  if (number === 1040 || number === 1203 || code === 'ER_CON_COUNT_ERROR' || code === 'ER_TOO_MANY_USER_CONNECTIONS') return true;
  return (number === 1226 || code === 'ER_USER_LIMIT_REACHED') && /'max_user_connections'/.test(errorMessage(error));
}

/** What went wrong with a statement, decided from the driver's error. */
export type Failure = 'connection' | 'timeout' | 'query';

export function classifyFailure(error: unknown): Failure {
  const code = errorCode(error);
  const number = errno(error);
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || (number !== undefined && TIMEOUT_ERRNOS.has(number))) return 'timeout';
  if (code !== undefined && (NETWORK_ERROR_CODES.has(code) || CONNECTION_CODES.has(code))) return 'connection';
  if (number !== undefined && CONNECTION_ERRNOS.has(number)) return 'connection';
  if ((error as { fatal?: unknown } | null)?.fatal === true) return 'connection';
  if (/^Pool is closed|in closed state|Can't write in closed state/.test(errorMessage(error))) return 'connection';
  return 'query';
}
