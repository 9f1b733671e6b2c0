/** What a node-postgres error means to the loader: a lost connection, a timeout, or a query problem. */
import { errorCode, errorMessage, NETWORK_ERROR_CODES } from '../errors.js';

/**
 * The server refused a new connection for a connection limit: SQLSTATE 53300 too_many_connections
 * is max_connections ("sorry, too many clients already"), the slots reserved for superusers, a
 * role's or a database's CONNECTION LIMIT. The loader then runs fewer batches at once (connection-cap.ts).
 */
export function isPgConnectionLimit(error: unknown): boolean {
  return errorCode(error) === '53300';
}

/** What went wrong with a statement, decided from the driver's error. */
export type Failure = 'connection' | 'timeout' | 'query';

/**
 * Connection-level: socket errors, SQLSTATE class 08 (connection exception; but a `bind message`
 * 08P01 is a statement error: wrong parameter count), 57P01-03 (admin/crash shutdown, cannot
 * connect now), 53300 (too many connections, once the connection cap gave up waiting), class 28
 * (authentication), 3D000 (the database was dropped or renamed: the pool's next connection is
 * refused), a server that no longer offers TLS, and pg's own errors for a client or pool that is closed. Timeout: 57014
 * (statement timeout or cancel), 55P03 (lock timeout), pg's client-side read timeout and the
 * pool's wait for a free client.
 */
export function classifyFailure(error: unknown): Failure {
  const code = errorCode(error);
  const message = errorMessage(error);
  if (code !== undefined) {
    if (NETWORK_ERROR_CODES.has(code)) return 'connection';
    if (code === '57014' || code === '55P03') return 'timeout';
    if (code === '08P01' && message.startsWith('bind message')) return 'query';
    if (code.startsWith('08') || code.startsWith('28') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code === '3D000') {
      return 'connection';
    }
    if (/^[0-9A-Z]{5}$/.test(code)) return 'query';
  }
  if (message === 'Query read timeout' || message === 'timeout exceeded when trying to connect') return 'timeout';
  if (/^Connection terminated|not queryable|Cannot use a pool after calling end|^The server does not support SSL connections/.test(message)) return 'connection';
  return 'query';
}

/** A server error with its detail and hint, as one line. */
export function describeQueryError(error: unknown): string {
  const message = errorMessage(error);
  const bind = /^bind message supplies \d+ parameters?, but prepared statement "[^"]*" requires (\d+)/.exec(message);
  if (bind !== null) {
    return bind[1] === '0'
      ? 'the query does not use $1; the batch of ids is bound to $1, e.g. WHERE id = ANY($1)'
      : `the query uses $1 to $${bind[1]}; only $1 (the batch of ids) is bound`;
  }
  const fields = typeof error === 'object' && error !== null ? (error as { detail?: unknown; hint?: unknown }) : {};
  const { detail, hint } = fields;
  let out = message;
  if (typeof detail === 'string' && detail !== '') out += ` (${detail})`;
  if (typeof hint === 'string' && hint !== '') out += `; ${hint}`;
  return out;
}
