/**
 * TLS for Redis connections: the CA, client certificate and key files given on the command line
 * (--tls-ca, --tls-cert, --tls-key) and --insecure, turned into Node `tls.connect` options that
 * every reader (standalone, Sentinel, Cluster) hands to ioredis.
 *
 * The files are read once, here, so a reconnect never touches the disk again, and they are checked
 * before any connection: a file that cannot be read, or does not hold what its flag promises, is a
 * usage error (exit 2) that names the flag and the file, never its contents.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { UsageError } from '../errors.js';

/** What the user asked for on the command line; every field optional. */
export interface TlsOptions {
  /** PEM file with the CA certificate(s) that signed the server's certificate (--tls-ca). */
  caFile?: string;
  /** PEM file with the client certificate, for servers that check clients (--tls-cert). */
  certFile?: string;
  /** PEM file with the client certificate's private key (--tls-key). */
  keyFile?: string;
  /** Accept any server certificate (--insecure): encrypted, but not authenticated. */
  insecure?: boolean;
}

/** The line --insecure prints on stderr, once per run. */
export const INSECURE_WARNING = 'TLS certificate verification is disabled (--insecure)';

/**
 * Prints the --insecure warning on stderr (or to `write`) when `insecure` is set; returns whether
 * it did. The CLI calls it once per run, whatever the targets, since --insecure also relaxes the
 * sources' certificate checks.
 */
export function warnIfInsecure(insecure: boolean | undefined, write: (line: string) => void = (line) => process.stderr.write(line)): boolean {
  if (insecure !== true) return false;
  write(`shadowcheck: warning: ${INSECURE_WARNING}\n`);
  return true;
}

/** Whether any TLS flag beyond --insecure was given (those only make sense for a TLS URL). */
export function hasTlsFiles(tls: TlsOptions | undefined): boolean {
  return tls?.caFile !== undefined || tls?.certFile !== undefined || tls?.keyFile !== undefined;
}

/**
 * The `tls` option for ioredis (standalone, Sentinel, or a Cluster's `redisOptions.tls`), from the
 * TLS flags: CA, client certificate and key read from their files, and `rejectUnauthorized: false`
 * under --insecure. With no flags it is `{}`: TLS verified against Node's bundled CA store.
 *
 * Throws a UsageError naming the flag and the file when a file is missing or unreadable, holds no
 * PEM certificate (CA, client certificate) or no usable key, or when the key does not belong to
 * the certificate. The server's name is still checked against its certificate unless --insecure.
 */
export function redisTlsOptions(tls: TlsOptions | undefined): ConnectionOptions {
  const out: ConnectionOptions = {};
  if (tls === undefined) return out;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new UsageError(tls.certFile === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key', {
      hint: 'a client certificate is given as two PEM files: --tls-cert FILE --tls-key FILE',
    });
  }
  if (tls.caFile !== undefined) {
    out.ca = readTlsFile(`--tls-ca ${tls.caFile}`, tls.caFile);
    requireCertificate(`--tls-ca ${tls.caFile}`, out.ca);
  }
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    out.cert = readTlsFile(`--tls-cert ${tls.certFile}`, tls.certFile);
    requireCertificate(`--tls-cert ${tls.certFile}`, out.cert);
    out.key = readTlsFile(`--tls-key ${tls.keyFile}`, tls.keyFile);
  }
  if (tls.insecure === true) out.rejectUnauthorized = false;
  try {
    // What tls.connect would do with these options, now, so a bad key fails before any connection.
    createSecureContext(out);
  } catch (error) {
    const files = [tls.certFile === undefined ? undefined : `--tls-cert ${tls.certFile}`, tls.keyFile === undefined ? undefined : `--tls-key ${tls.keyFile}`]
      .filter((f) => f !== undefined)
      .join(', ');
    throw new UsageError(`${files === '' ? `--tls-ca ${tls.caFile ?? ''}` : files}: unusable TLS material: ${reason(error)}`, {
      hint: 'give PEM files: the client certificate and the private key that belongs to it',
      cause: error,
    });
  }
  return out;
}

/**
 * The `tls` option for a reader's URL: TLS options for a TLS scheme (`rediss://`,
 * `rediss+sentinel://`), undefined for a plain one. CA or client certificate files with a plain
 * scheme are a usage error: the user expects TLS and would silently get plaintext. --insecure alone
 * is accepted with a plain scheme (it may be there for the sources), and changes nothing.
 */
export function redisTlsFor(secure: boolean, tls: TlsOptions | undefined, redactedUrl: string): ConnectionOptions | undefined {
  if (secure) return redisTlsOptions(tls);
  if (hasTlsFiles(tls)) {
    const scheme = /^[a-z+]+:/i.exec(redactedUrl)?.[0] ?? 'redis:';
    throw new UsageError(`--tls-ca/--tls-cert/--tls-key were given, but --redis ${redactedUrl} is a plain-text URL`, {
      hint: `use a TLS URL (${scheme.replace(/^redis/i, 'rediss')}//...) to connect with TLS`,
    });
  }
  return undefined;
}

/** Node's codes for a server certificate that failed verification (chain or name). */
const CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** The same failures in words, for errors that lost their code on the way (a sentinel's reason). */
const CERTIFICATE_ERROR_TEXT =
  /self[- ]signed certificate|unable to (verify|get)[^)]*(certificate|issuer)|certificate (has expired|is not yet valid|verify failed|signature failure)|altnames|CERT_HAS_EXPIRED|SELF_SIGNED|UNABLE_TO_VERIFY/i;

/**
 * Whether a connection error says the server's certificate was not trusted (not: the server asked
 * for ours, which is `tlsv13 alert certificate required`).
 */
export function isCertificateError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && CERTIFICATE_ERROR_CODES.has(code)) return true;
  return error instanceof Error && CERTIFICATE_ERROR_TEXT.test(error.message);
}

/** What to do about a connection error, when it is about the server's certificate. */
export function certificateHint(error: unknown): string | undefined {
  if (!isCertificateError(error)) return undefined;
  return "the server's certificate was not trusted: pass the CA that signed it with --tls-ca FILE (or, to skip verification, --insecure)";
}

/**
 * What to do about a failed TLS connection: the certificate hint, or, when the server hung up on a
 * client that sent no certificate, the client-certificate flags (a server with
 * `tls-auth-clients yes` just closes the connection).
 */
export function tlsHint(error: unknown, tls: TlsOptions | undefined): string | undefined {
  const certificate = certificateHint(error);
  if (certificate !== undefined) return certificate;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  // Depending on timing the client sees a reset, the server's alert, or just a closed connection.
  if (tls?.certFile === undefined && (code === 'ECONNRESET' || /certificate required|alert|Connection is closed/i.test(message))) {
    return 'the server closed the TLS connection: if it requires client certificates (tls-auth-clients yes), pass --tls-cert FILE --tls-key FILE';
  }
  return undefined;
}

/**
 * Reads a certificate or key file once; a usage error (exit 2) when it cannot be read. `label` says
 * where the path came from (`--tls-ca /etc/ca.pem`, `source "main": sslrootcert=/etc/ca.pem`).
 * Shared with the sources' TLS options (src/sources/tls.ts).
 */
export function readTlsFile(label: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${label}: cannot read the file: ${reason(error)}`, { cause: error });
  }
}

/** The file must start with a PEM (or DER) certificate: a key given as the CA fails here, by name. */
export function requireCertificate(label: string, content: Buffer): void {
  try {
    new X509Certificate(content);
  } catch (error) {
    throw new UsageError(`${label}: the file holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)`, { cause: error });
  }
}

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

function reason(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && FS_REASONS[code] !== undefined) return FS_REASONS[code];
  return error instanceof Error ? error.message : String(error);
}
