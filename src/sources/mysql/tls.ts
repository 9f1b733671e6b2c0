/**
 * TLS for a MySQL / MariaDB source, from its URL (see ../tls.ts for what all kinds share).
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
 */
import { UsageError } from '../../errors.js';
import { readTlsFile, requireCertificate } from '../../cache/tls.js';
import { nonEmpty, parseUrl, withoutParams, type SourceTlsContext } from '../tls.js';

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

