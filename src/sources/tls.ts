/**
 * TLS for the sources, from parameters in their URLs, plus the global --insecure.
 *
 * PostgreSQL: libpq's parameters, `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslpassword`
 * (also from PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, as libpq reads them). pg 8 parses these
 * itself (pg-connection-string 2.x), but not as libpq does: `prefer`, `require` and `verify-ca` all
 * mean verify-full there (with a deprecation warning on stderr), `prefer` never falls back to
 * plaintext, the files are read again for every new connection, an unreadable file surfaces as a
 * connection error, and URL parameters override the `ssl` option, so --insecure could not relax
 * them. So the loader takes these parameters out of the URL and gives pg an explicit `ssl` with
 * libpq's meaning:
 *
 * | sslmode              | TLS | chain verified               | host name verified | server without TLS |
 * |----------------------|-----|------------------------------|--------------------|--------------------|
 * | disable              | no  |                              |                    | plaintext          |
 * | allow, prefer        | yes | no                           | no                 | plaintext          |
 * | require              | yes | only with sslrootcert        | no                 | error              |
 * | verify-ca            | yes | yes (sslrootcert required)   | no                 | error              |
 * | verify-full          | yes | yes (sslrootcert, or Node's) | yes                | error              |
 * | no-verify (pg's own) | yes | no                           | no                 | error              |
 *
 * No sslmode and no TLS parameter: pg's default, plaintext (the URL is passed through untouched).
 * TLS parameters without sslmode (sslrootcert, sslcert, sslkey, `ssl=true`): verify-full, as pg
 * does; `ssl=no-verify` (pg's) is no-verify and `ssl=false` disable. `sslrootcert=system` uses Node's CA store and requires verify-full (as libpq 16). libpq's
 * default files under ~/.postgresql/ are not read: name the files in the URL. `allow` tries TLS
 * first, unlike libpq (the result is the same: a connection, encrypted when the server can).
 *
 * MySQL / MariaDB (our convention, the names of the mysql client's options): `ssl-mode`
 * (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY; any case), `ssl-ca`, `ssl-cert`,
 * `ssl-key`, mapped to mysql2's `ssl: { ca, cert, key, rejectUnauthorized, verifyIdentity }`:
 *
 * | ssl-mode        | TLS | chain verified              | host name verified | server without TLS |
 * |-----------------|-----|-----------------------------|--------------------|--------------------|
 * | DISABLED        | no  |                             |                    | plaintext          |
 * | PREFERRED       | yes | no                          | no                 | plaintext          |
 * | REQUIRED        | yes | only with ssl-ca            | no                 | error              |
 * | VERIFY_CA       | yes | yes (ssl-ca required)       | no                 | error              |
 * | VERIFY_IDENTITY | yes | yes (ssl-ca, or Node's)     | yes                | error              |
 *
 * No ssl-mode and no ssl-* parameter: no TLS (mysql2's default; the URL is untouched). ssl-* files
 * without ssl-mode: VERIFY_IDENTITY. mysql2's own `ssl` URL parameter (JSON or a profile name)
 * still works on its own, but not together with these, and --insecure does not change it.
 *
 * --insecure (LoaderOptions.tlsInsecure): every TLS mode accepts any server certificate and name;
 * client certificates are still sent. The CLI prints the warning once (src/cache/tls.ts).
 *
 * Files are read once, when the loader is created; a missing or unreadable one is a usage error
 * (exit 2) naming the source, the parameter and the path. Certificate contents and passwords are
 * never part of a message.
 */
import type { ConnectionOptions } from 'node:tls';
import { ConnectionError, UsageError } from '../errors.js';
import { isCertificateError, readTlsFile, requireCertificate } from '../cache/tls.js';

export interface SourceTlsContext {
  /** The source's name in the rules file, for messages. */
  source: string;
  /** --insecure: accept any server certificate. */
  insecure?: boolean;
  /** Where PGSSLMODE and friends are read (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

export const PG_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
export type PgSslMode = (typeof PG_SSL_MODES)[number];

export interface PostgresTls {
  /** The URL for pg, without the TLS parameters (they would override `ssl`). */
  connectionString: string;
  /** pg's `ssl` option; undefined when neither the URL nor the environment mention TLS. */
  ssl: false | ConnectionOptions | undefined;
  /** sslmode allow/prefer: reconnect in plaintext when the server does not offer TLS. */
  plaintextFallback: boolean;
  /** The sslmode in force, undefined when nothing asked for one. */
  mode: PgSslMode | undefined;
  /** `sslnegotiation`, taken out of the URL with the rest (pg reads it from its config too). */
  sslnegotiation?: 'postgres' | 'direct';
}

/** Parameters taken out of a PostgreSQL URL and handled here. */
const PG_TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'ssl', 'uselibpqcompat', 'sslnegotiation'];

/** pg's `ssl` option (and the URL to use) for one PostgreSQL source. See the table above. */
export function postgresTls(url: string, context: SourceTlsContext): PostgresTls {
  const env = context.env ?? process.env;
  const parsed = parseUrl(url);
  const param = (name: string): string | undefined => parsed?.searchParams.get(name) ?? undefined;
  const usage = (problem: string, hint?: string) => new UsageError(`source "${context.source}": ${problem}`, hint === undefined ? {} : { hint });

  const rootcert = param('sslrootcert') ?? nonEmpty(env['PGSSLROOTCERT']);
  const cert = param('sslcert') ?? nonEmpty(env['PGSSLCERT']);
  const key = param('sslkey') ?? nonEmpty(env['PGSSLKEY']);
  const passphrase = param('sslpassword');
  const sslFlag = param('ssl');
  const negotiation = param('sslnegotiation');
  const rawMode = param('sslmode') ?? nonEmpty(env['PGSSLMODE']);

  let mode: PgSslMode | undefined;
  if (rawMode !== undefined) {
    const lower = rawMode.toLowerCase();
    if (!(PG_SSL_MODES as readonly string[]).includes(lower)) {
      throw usage(`sslmode=${rawMode} is not a PostgreSQL sslmode`, `use one of ${PG_SSL_MODES.join(', ')}`);
    }
    mode = lower as PgSslMode;
  } else if (sslFlag === 'false' || sslFlag === '0') {
    mode = 'disable';
  } else if (sslFlag === 'no-verify') {
    mode = 'no-verify';
  } else if (sslFlag === 'true' || sslFlag === '1' || rootcert !== undefined || cert !== undefined || key !== undefined) {
    mode = 'verify-full';
  }
  if (negotiation !== undefined && negotiation !== 'postgres' && negotiation !== 'direct') {
    throw usage(`sslnegotiation=${negotiation}: expected postgres or direct`);
  }
  const connectionString = parsed === undefined || !PG_TLS_PARAMS.some((p) => parsed.searchParams.has(p)) ? url : withoutParams(parsed, PG_TLS_PARAMS);
  const base: Pick<PostgresTls, 'connectionString' | 'sslnegotiation'> = {
    connectionString,
    ...(negotiation === undefined ? {} : { sslnegotiation: negotiation === 'direct' ? 'direct' : 'postgres' }),
  };
  if (mode === undefined) return { ...base, ssl: undefined, plaintextFallback: false, mode };
  if (mode === 'disable') {
    if (negotiation === 'direct') throw usage('sslnegotiation=direct needs TLS, but sslmode is disable');
    return { ...base, ssl: false, plaintextFallback: false, mode };
  }
  if (negotiation === 'direct' && (mode === 'allow' || mode === 'prefer')) {
    throw usage(`sslnegotiation=direct needs sslmode=require or stronger, not ${mode}`);
  }

  const ssl: ConnectionOptions = {};
  const system = rootcert === 'system';
  if (system && mode !== 'verify-full') {
    throw usage(`sslmode=${mode} may not be used with sslrootcert=system`, 'use sslmode=verify-full: trusting every public CA only makes sense with the host name checked');
  }
  if (rootcert !== undefined && !system) {
    ssl.ca = readTlsFile(`source "${context.source}": sslrootcert=${rootcert}`, rootcert);
    requireCertificate(`source "${context.source}": sslrootcert=${rootcert}`, ssl.ca);
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw usage(cert === undefined ? `sslkey=${key ?? ''} needs sslcert` : `sslcert=${cert} needs sslkey`, 'a client certificate is given as two PEM files: sslcert=FILE&sslkey=FILE');
  }
  if (cert !== undefined && key !== undefined) {
    ssl.cert = readTlsFile(`source "${context.source}": sslcert=${cert}`, cert);
    requireCertificate(`source "${context.source}": sslcert=${cert}`, ssl.cert);
    ssl.key = readTlsFile(`source "${context.source}": sslkey=${key}`, key);
    if (passphrase !== undefined) ssl.passphrase = passphrase;
  }
  if (mode === 'verify-ca' && ssl.ca === undefined) {
    throw usage('sslmode=verify-ca needs sslrootcert=FILE', 'name the CA that signed the server certificate; verify-ca against every public CA would accept any server with a public certificate');
  }

  const verifyChain = mode === 'verify-full' || mode === 'verify-ca' || (mode === 'require' && ssl.ca !== undefined);
  const verifyName = mode === 'verify-full';
  applyVerification(ssl, context.insecure === true ? false : verifyChain, context.insecure === true ? false : verifyName);
  return { ...base, ssl, plaintextFallback: mode === 'allow' || mode === 'prefer', mode };
}

export const MYSQL_SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type MysqlSslMode = (typeof MYSQL_SSL_MODES)[number];

/** mysql2's `ssl` option, as far as this module sets it. */
export interface MysqlSslOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  verifyIdentity: boolean;
}

export interface MysqlTls {
  /** The URL for mysql2, without our ssl-* parameters (mysql2 warns about unknown options). */
  uri: string;
  /** mysql2's `ssl`; undefined: no TLS, or mysql2's own `ssl` URL parameter decides. */
  ssl: MysqlSslOptions | undefined;
  /** PREFERRED: reconnect in plaintext when the server does not offer TLS. */
  plaintextFallback: boolean;
  mode: MysqlSslMode | undefined;
}

const MYSQL_TLS_PARAMS = ['ssl-mode', 'ssl-ca', 'ssl-cert', 'ssl-key'];

/** mysql2's `ssl` option (and the URL to use) for one MySQL source. See the table above. */
export function mysqlTls(url: string, context: SourceTlsContext): MysqlTls {
  const parsed = parseUrl(url);
  if (parsed === undefined || !MYSQL_TLS_PARAMS.some((p) => parsed.searchParams.has(p))) {
    return { uri: url, ssl: undefined, plaintextFallback: false, mode: undefined };
  }
  const usage = (problem: string, hint?: string) => new UsageError(`source "${context.source}": ${problem}`, hint === undefined ? {} : { hint });
  if (parsed.searchParams.has('ssl')) {
    throw usage("mysql2's ssl parameter cannot be combined with ssl-mode/ssl-ca/ssl-cert/ssl-key", 'keep one of the two: ssl-mode=...&ssl-ca=FILE is the documented form');
  }
  const param = (name: string): string | undefined => nonEmpty(parsed.searchParams.get(name) ?? undefined);
  const ca = param('ssl-ca');
  const cert = param('ssl-cert');
  const key = param('ssl-key');
  const rawMode = param('ssl-mode');
  let mode: MysqlSslMode;
  if (rawMode !== undefined) {
    const upper = rawMode.toUpperCase().replace(/-/g, '_');
    if (!(MYSQL_SSL_MODES as readonly string[]).includes(upper)) {
      throw usage(`ssl-mode=${rawMode} is not a MySQL ssl-mode`, `use one of ${MYSQL_SSL_MODES.join(', ')}`);
    }
    mode = upper as MysqlSslMode;
  } else {
    mode = 'VERIFY_IDENTITY';
  }
  const uri = withoutParams(parsed, MYSQL_TLS_PARAMS);
  if (mode === 'DISABLED') return { uri, ssl: undefined, plaintextFallback: false, mode };

  const ssl: MysqlSslOptions = { rejectUnauthorized: true, verifyIdentity: true };
  if (ca !== undefined) {
    ssl.ca = readTlsFile(`source "${context.source}": ssl-ca=${ca}`, ca);
    requireCertificate(`source "${context.source}": ssl-ca=${ca}`, ssl.ca);
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw usage(cert === undefined ? `ssl-key=${key ?? ''} needs ssl-cert` : `ssl-cert=${cert} needs ssl-key`, 'a client certificate is given as two PEM files: ssl-cert=FILE&ssl-key=FILE');
  }
  if (cert !== undefined && key !== undefined) {
    ssl.cert = readTlsFile(`source "${context.source}": ssl-cert=${cert}`, cert);
    requireCertificate(`source "${context.source}": ssl-cert=${cert}`, ssl.cert);
    ssl.key = readTlsFile(`source "${context.source}": ssl-key=${key}`, key);
  }
  if (mode === 'VERIFY_CA' && ssl.ca === undefined) {
    throw usage('ssl-mode=VERIFY_CA needs ssl-ca=FILE', 'name the CA that signed the server certificate');
  }
  const verifyChain = mode === 'VERIFY_IDENTITY' || mode === 'VERIFY_CA' || (mode === 'REQUIRED' && ssl.ca !== undefined);
  const verifyName = mode === 'VERIFY_IDENTITY';
  ssl.rejectUnauthorized = context.insecure !== true && verifyChain;
  ssl.verifyIdentity = context.insecure !== true && verifyName;
  return { uri, ssl, plaintextFallback: mode === 'PREFERRED', mode };
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
export function withTlsHint(error: unknown, kind: 'postgres' | 'mysql'): unknown {
  if (!(error instanceof ConnectionError)) return error;
  const pgKind = kind === 'postgres';
  let hint: string | undefined;
  if (serverLacksTls(error)) {
    hint = pgKind
      ? 'the server offers no TLS: use sslmode=prefer (TLS when offered) or sslmode=disable in the url'
      : 'the server offers no TLS: use ssl-mode=PREFERRED (TLS when offered) or ssl-mode=DISABLED in the url';
  } else if (isCertificateError(error.cause)) {
    hint = pgKind
      ? "the server's certificate was not trusted: name its CA with sslrootcert=FILE in the url (or, to skip verification, --insecure)"
      : "the server's certificate was not trusted: name its CA with ssl-ca=FILE in the url (or, to skip verification, --insecure)";
  }
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

/** rejectUnauthorized checks the chain; Node checks the name too unless checkServerIdentity says otherwise. */
function applyVerification(ssl: ConnectionOptions, chain: boolean, name: boolean): void {
  ssl.rejectUnauthorized = chain;
  if (!name) ssl.checkServerIdentity = () => undefined;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The URL with `names` removed from its query, otherwise as written. */
function withoutParams(url: URL, names: readonly string[]): string {
  const copy = new URL(url.toString());
  for (const name of names) copy.searchParams.delete(name);
  return copy.toString();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
