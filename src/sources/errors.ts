import type { SourceSpec } from '../config/types.js';
import { ConnectionError, ExitCode, ShadowcheckError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactSecrets, redactUrl, urlProblem } from '../util/redact-url.js';
import { SourceQueryError } from './types.js';

/**
 * A family's query or table does not work against its source (missing relation or column, bad
 * syntax, the key column absent from the result). Found by `check()` before any key is read; it is
 * a rules-file problem, so exit 2.
 */
export class SourceCheckError extends ShadowcheckError {
  readonly family: string;

  constructor(family: string, problem: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`family "${family}": ${problem}`, ExitCode.usage, options);
    this.family = family;
  }
}

/** `code` of a driver or Node error (`ECONNREFUSED`, a SQLSTATE, `ER_NO_SUCH_TABLE`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** The error's message; an AggregateError (Node's happy eyeballs) has an empty one of its own. */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    const first: unknown = error.errors[0];
    if (first !== undefined) return errorMessage(first);
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Node socket errors: the network or the server is gone, not the query. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
]);

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary DNS failure)',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
  EPIPE: 'connection closed by the server',
};

/** A short reason a user can act on: words for socket errors, the server's message otherwise. */
export function describeFailure(error: unknown): string {
  const code = errorCode(error);
  const words = code === undefined ? undefined : NETWORK_REASONS[code];
  return words ?? errorMessage(error);
}

function hintFor(spec: SourceSpec, error: unknown, fallback: string): string {
  const code = errorCode(error) ?? '';
  if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return `is the ${spec.kind} server running and reachable at that host and port? Check the url of source "${spec.name}" in the rules file`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `check the host name in the url of source "${spec.name}"`;
  }
  if (/^28/.test(code) || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return `check the user and password in the url of source "${spec.name}" (an \${ENV} variable may be unset)`;
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
    return `check the database name in the url of source "${spec.name}"`;
  }
  return fallback;
}

function where(spec: SourceSpec): string {
  return spec.url === undefined ? `source "${spec.name}"` : `source "${spec.name}" (${redactUrl(spec.url)})`;
}

/** The factory could not open or verify its first connection. */
export function cannotConnect(spec: SourceSpec, error: unknown): ConnectionError {
  return new ConnectionError(`cannot connect to ${where(spec)}: ${redactSecrets(describeFailure(error), spec.url)}`, {
    hint: hintFor(spec, error, `check the url of source "${spec.name}" and that the server accepts connections`),
    cause: error,
  });
}

/** A connection failed under a batch or a check: the source is gone, the audit ends (exit 3). */
export function lostConnection(spec: SourceSpec, family: string, error: unknown): ConnectionError {
  return new ConnectionError(`lost the connection to ${where(spec)} while loading family "${family}": ${redactSecrets(describeFailure(error), spec.url)}`, {
    hint: hintFor(spec, error, 'the server ended the session (restart, failover, or an administrator or proxy closed it); run the audit again once the source is back'),
    cause: error,
  });
}

/**
 * A source spec for a database kind must carry a URL its driver reads as written; the config
 * layer should have said so. Drivers parse with WHATWG URL, which throws on some passwords with
 * an unencoded '#', '/' or '?' and reads others with part of the password as the host.
 */
export function requireUrl(spec: SourceSpec): string {
  if (spec.url === undefined || spec.url === '') {
    throw new ShadowcheckError(`source "${spec.name}" (kind ${spec.kind}) has no url`, ExitCode.usage, {
      hint: `give source "${spec.name}" a url, e.g. url: "\${DATABASE_URL}"`,
    });
  }
  const problem = urlProblem(spec.url);
  if (problem !== undefined) {
    throw new ShadowcheckError(`the url of source "${spec.name}" (${redactUrl(spec.url)}) ${problem}`, ExitCode.usage, { hint: PERCENT_ENCODE_HINT });
  }
  return spec.url;
}

/**
 * Why check() of a family failed, as the error the user sees: a lost connection or no answer in
 * time end the run (exit 3); a query the family cannot use is a rules problem (exit 2).
 */
export function checkFailed(
  spec: SourceSpec,
  rule: { name: string; table?: string | undefined },
  failure: 'connection' | 'timeout' | 'query',
  error: unknown,
  timeoutMs: number,
  detail: { message: string; hint?: string },
): ShadowcheckError {
  if (failure === 'connection') return lostConnection(spec, rule.name, error);
  if (failure === 'timeout') {
    return new ConnectionError(`source "${spec.name}" did not answer the check of family "${rule.name}" within ${timeoutMs} ms: ${describeFailure(error)}`, {
      hint: 'a lock held by a schema change can block even LIMIT 0; retry, or raise --timeout',
      cause: error,
    });
  }
  return new SourceCheckError(rule.name, detail.message, {
    hint: detail.hint ?? `check the family's ${rule.table === undefined ? 'query' : 'table and key'} against source "${spec.name}"`,
    cause: error,
  });
}

/**
 * Why one batch failed, as the error the pipeline acts on: a lost connection ends the run
 * (ConnectionError); a timeout or a query error fails only this batch (SourceQueryError).
 */
export function batchFailed(
  spec: SourceSpec,
  family: string,
  failure: 'connection' | 'timeout' | 'query',
  error: unknown,
  timeoutMs: number,
  message: string,
): Error {
  if (error instanceof SourceQueryError || error instanceof ConnectionError) return error;
  if (failure === 'connection') return lostConnection(spec, family, error);
  if (failure === 'timeout') {
    return new SourceQueryError(`family "${family}": query timed out after ${timeoutMs} ms (${describeFailure(error)})`, { timeout: true, cause: error });
  }
  return new SourceQueryError(`family "${family}": ${message}`, { timeout: false, cause: error });
}

/**
 * Why a probe of the source itself (how busy it is, its replication lag) failed, as an error the
 * audit ends on cleanly: a probe has no key to turn into an `error` verdict, and a raw driver
 * error would reach the user as an internal error (exit 70). A lost connection and a source that
 * stopped answering end the run with a partial report (ConnectionError, exit 3), as a batch's would.
 */
export function probeFailed(spec: SourceSpec, probe: string, failure: 'connection' | 'timeout' | 'query', error: unknown, timeoutMs: number): ConnectionError {
  if (error instanceof ConnectionError) return error;
  if (failure === 'connection') {
    return new ConnectionError(`lost the connection to ${where(spec)} while reading its ${probe}: ${redactSecrets(describeFailure(error), spec.url)}`, {
      hint: hintFor(spec, error, 'the server ended the session (restart, failover, or an administrator or proxy closed it); run the audit again once the source is back'),
      cause: error,
    });
  }
  if (failure === 'timeout') {
    return new ConnectionError(`${where(spec)} did not answer the ${probe} probe within ${timeoutMs} ms: ${redactSecrets(describeFailure(error), spec.url)}`, {
      hint: 'the source or its connection is stalled; run the audit again once it answers, or raise --timeout',
      cause: error,
    });
  }
  return new ConnectionError(`${where(spec)}: reading its ${probe} failed: ${redactSecrets(describeFailure(error), spec.url)}`, {
    hint: 'the audit stopped rather than run without watching the source; run it again',
    cause: error,
  });
}
