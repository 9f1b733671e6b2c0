/**
 * TLS for the sources, from parameters in their URLs, plus the global --insecure. What is shared:
 * the context, the prefer-then-plaintext connection, the hint on a TLS failure. Each kind reads
 * its own parameters in its folder (postgres/tls.ts: libpq's sslmode & co.; mysql/tls.ts: the
 * mysql client's ssl-mode & co.).
 *
 * --insecure (LoaderOptions.tlsInsecure): every TLS mode accepts any server certificate and name;
 * client certificates are still sent. The CLI prints the warning once (src/cache/tls.ts).
 *
 * Files are read once, when the loader is created; a missing or unreadable one is a usage error
 * (exit 2) naming the source, the parameter and the path. Certificate contents and passwords are
 * never part of a message.
 */
import { ConnectionError } from '../errors.js';
import { isCertificateError } from '../cache/tls.js';
import { SOURCE_KINDS, type SourceKind } from './registry.js';

export interface SourceTlsContext {
  /** The source's name in the rules file, for messages. */
  source: string;
  /** --insecure: accept any server certificate. */
  insecure?: boolean;
  /** Where PGSSLMODE and friends are read (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Connects with TLS first and, when the server says it does not do TLS at all, in plaintext:
 * sslmode=prefer / ssl-mode=PREFERRED. Any other failure (a refused certificate included) stands.
 */
export async function preferTls<T>(withTls: () => Promise<T>, plaintext: () => Promise<T>): Promise<T> {
  try {
    return await withTls();
  } catch (error) {
    if (!serverLacksTls(error)) throw error;
    return plaintext();
  }
}

/**
 * A failed connection with a hint about its TLS parameters, when TLS is why it failed: the server
 * offers no TLS, or its certificate was refused. Anything else is returned as it is.
 */
export function withTlsHint(error: unknown, kind: SourceKind): unknown {
  if (!(error instanceof ConnectionError)) return error;
  const hints = SOURCE_KINDS[kind].tls;
  let hint: string | undefined;
  if (serverLacksTls(error)) hint = hints?.noTlsHint;
  else if (isCertificateError(error.cause)) hint = hints?.untrustedHint;
  return hint === undefined ? error : new ConnectionError(error.message, { hint, cause: error.cause });
}

/** pg: "The server does not support SSL connections"; mysql2: HANDSHAKE_NO_SSL_SUPPORT. Looks through `cause`s. */
export function serverLacksTls(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : '';
    if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || /does not support (SSL|secure connection)/i.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The URL with `names` removed from its query, otherwise as written. */
export function withoutParams(url: URL, names: readonly string[]): string {
  const copy = new URL(url.toString());
  for (const name of names) copy.searchParams.delete(name);
  return copy.toString();
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

