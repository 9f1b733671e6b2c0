/**
 * TLS for a PostgreSQL source, from its URL (see ../tls.ts for what all kinds share).
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
 */
import type { ConnectionOptions } from 'node:tls';
import { UsageError } from '../../errors.js';
import { readTlsFile, requireCertificate } from '../../cache/tls.js';
import { nonEmpty, parseUrl, withoutParams, type SourceTlsContext } from '../tls.js';

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


/** rejectUnauthorized checks the chain; Node checks the name too unless checkServerIdentity says otherwise. */
function applyVerification(ssl: ConnectionOptions, chain: boolean, name: boolean): void {
  ssl.rejectUnauthorized = chain;
  if (!name) ssl.checkServerIdentity = () => undefined;
}

