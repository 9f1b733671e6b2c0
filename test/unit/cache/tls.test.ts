/**
 * TLS option mapping, without a server: the Redis TLS flags (src/cache/tls.ts) and the sources'
 * URL parameters (src/sources/tls.ts: PostgreSQL sslmode & co., MySQL ssl-mode & co.). The
 * certificate files are made by openssl in a temporary directory (test/integration/helpers/tls.ts).
 * The shared PostgreSQL and MariaDB servers have no TLS, so what pg and mysql2 do with these
 * options against a TLS server is not exercised here; test/integration/tls/sources-tls.test.ts
 * checks what can be checked against them (prefer falls back, require fails).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateHint, INSECURE_WARNING, redisTlsFor, redisTlsOptions, tlsHint, warnIfInsecure } from '../../../src/cache/tls.js';
import { ConnectionError, UsageError } from '../../../src/errors.js';
import { mysqlTls } from '../../../src/sources/mysql/tls.js';
import { postgresTls } from '../../../src/sources/postgres/tls.js';
import { preferTls, serverLacksTls, withTlsHint } from '../../../src/sources/tls.js';
import { createTestPki, type TestPki } from '../../integration/helpers/tls.js';

let pki: TestPki;
let missing: string;

beforeAll(async () => {
  pki = await createTestPki();
  missing = join(pki.dir, 'no-such-ca.pem');
}, 30_000);

afterAll(async () => {
  await pki?.remove();
});

/** What a thrown error says, for assertions on messages. */
function thrown(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('Redis TLS flags (redisTlsOptions, redisTlsFor)', () => {
  it('reads the CA, client certificate and key once, as bytes', () => {
    const tls = redisTlsOptions({ caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey });
    expect(tls.ca).toEqual(readFileSync(pki.caCert));
    expect(tls.cert).toEqual(readFileSync(pki.clientCert));
    expect(tls.key).toEqual(readFileSync(pki.clientKey));
    expect(tls.rejectUnauthorized).toBeUndefined();
    expect(tls.checkServerIdentity).toBeUndefined();
  });

  it('no flags: verified TLS against the default CA store; --insecure: rejectUnauthorized false', () => {
    expect(redisTlsOptions(undefined)).toEqual({});
    expect(redisTlsOptions({})).toEqual({});
    expect(redisTlsOptions({ insecure: true })).toEqual({ rejectUnauthorized: false });
  });

  it('a missing CA file is a usage error (exit 2) naming the flag and the file', () => {
    const error = thrown(() => redisTlsOptions({ caFile: missing }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`--tls-ca ${missing}: cannot read the file: no such file`);
  });

  it('a CA file that holds no certificate (a key given by mistake) is a usage error that does not print the file', () => {
    const error = thrown(() => redisTlsOptions({ caFile: pki.clientKey }));
    expect(error.message).toMatch(/^--tls-ca .*client\.key: the file holds no certificate/);
    const keyBody = readFileSync(pki.clientKey, 'utf8').split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(20);
    expect(error.message).not.toContain(keyBody);
    expect(error.message).not.toMatch(/PRIVATE KEY/);
  });

  it('a certificate without its key, or a key without its certificate, is a usage error', () => {
    expect(thrown(() => redisTlsOptions({ certFile: pki.clientCert })).message).toBe('--tls-cert needs --tls-key');
    expect(thrown(() => redisTlsOptions({ keyFile: pki.clientKey })).message).toBe('--tls-key needs --tls-cert');
  });

  it('a key that does not belong to the certificate is a usage error naming both files', () => {
    const error = thrown(() => redisTlsOptions({ certFile: pki.clientCert, keyFile: pki.serverKey }));
    expect(error.message).toContain(`--tls-cert ${pki.clientCert}, --tls-key ${pki.serverKey}: unusable TLS material`);
    expect(error.message).not.toMatch(/BEGIN|PRIVATE KEY/);
  });

  it('TLS files with a plain URL are a usage error; --insecure alone is accepted and changes nothing', () => {
    expect(thrown(() => redisTlsFor(false, { caFile: pki.caCert }, 'redis://h:6379/0')).hint).toContain('rediss://');
    expect(thrown(() => redisTlsFor(false, { certFile: pki.clientCert, keyFile: pki.clientKey }, 'redis+sentinel://h/m')).hint).toContain('rediss+sentinel://');
    expect(redisTlsFor(false, { insecure: true }, 'redis://h:6379/0')).toBeUndefined();
    expect(redisTlsFor(false, undefined, 'redis://h:6379/0')).toBeUndefined();
    expect(redisTlsFor(true, undefined, 'rediss://h:6379/0')).toEqual({});
  });

  it('--insecure prints its warning on stderr once, and nothing without it', () => {
    const lines: string[] = [];
    expect(warnIfInsecure(true, (line) => lines.push(line))).toBe(true);
    expect(warnIfInsecure(false, (line) => lines.push(line))).toBe(false);
    expect(warnIfInsecure(undefined, (line) => lines.push(line))).toBe(false);
    expect(lines).toEqual(['shadowcheck: warning: TLS certificate verification is disabled (--insecure)\n']);
    expect(INSECURE_WARNING).toBe('TLS certificate verification is disabled (--insecure)');
  });

  it('certificate errors get a hint naming --tls-ca and --insecure; a hang-up without a client certificate, --tls-cert', () => {
    const selfSigned = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(certificateHint(selfSigned)).toMatch(/--tls-ca FILE.*--insecure/);
    expect(certificateHint(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    const reset = Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' });
    expect(tlsHint(reset, { caFile: 'ca.pem' })).toMatch(/--tls-cert FILE --tls-key FILE/);
    expect(tlsHint(reset, { certFile: 'c.pem', keyFile: 'k.pem' })).toBeUndefined();
    // The server asking for our certificate is not a server certificate we refused.
    const asked = Object.assign(new Error('error:0A00045C:SSL routines::tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    expect(certificateHint(asked)).toBeUndefined();
    expect(tlsHint(asked, undefined)).toMatch(/--tls-cert FILE --tls-key FILE/);
    expect(tlsHint(new Error('Connection is closed.'), undefined)).toMatch(/--tls-cert FILE/);
    expect(certificateHint(new Error('failed: unable to verify the first certificate'))).toMatch(/--tls-ca/);
  });
});

describe('PostgreSQL TLS parameters (postgresTls)', () => {
  const context = { source: 'main', env: {} };
  const base = 'postgres://app:s3cret@db.example:5432/shop';

  it('no TLS parameter: the URL goes to pg untouched and pg decides (plaintext)', () => {
    expect(postgresTls(`${base}?application_name=x`, context)).toEqual({ connectionString: `${base}?application_name=x`, ssl: undefined, plaintextFallback: false, mode: undefined });
  });

  it('takes every TLS parameter out of the URL (pg would let them override ssl), keeping the rest', () => {
    const tls = postgresTls(`${base}?sslmode=verify-full&sslrootcert=${pki.caCert}&application_name=x&uselibpqcompat=true&sslnegotiation=postgres`, context);
    expect(tls.connectionString).toBe(`${base}?application_name=x`);
    expect(tls.sslnegotiation).toBe('postgres');
  });

  it('disable: no TLS', () => {
    expect(postgresTls(`${base}?sslmode=disable`, context)).toMatchObject({ ssl: false, plaintextFallback: false, mode: 'disable', connectionString: base });
  });

  it.each(['prefer', 'allow'])('%s: TLS without verification, plaintext when the server has no TLS', (mode) => {
    const tls = postgresTls(`${base}?sslmode=${mode}`, context);
    expect(tls.plaintextFallback).toBe(true);
    expect(tls.ssl).toMatchObject({ rejectUnauthorized: false });
    expect((tls.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBeTypeOf('function');
  });

  it('require: TLS, no verification, no fallback; with sslrootcert it verifies the chain (as libpq), not the name', () => {
    const plain = postgresTls(`${base}?sslmode=require`, context);
    expect(plain).toMatchObject({ plaintextFallback: false, ssl: { rejectUnauthorized: false } });
    const withCa = postgresTls(`${base}?sslmode=require&sslrootcert=${pki.caCert}`, context);
    expect(withCa.ssl).toMatchObject({ rejectUnauthorized: true, ca: readFileSync(pki.caCert) });
    const skip = (withCa.ssl as { checkServerIdentity: (host: string, cert: unknown) => unknown }).checkServerIdentity;
    expect(skip('db.example', {})).toBeUndefined();
  });

  it('verify-ca: the chain against sslrootcert, not the name; without sslrootcert a usage error', () => {
    const tls = postgresTls(`${base}?sslmode=verify-ca&sslrootcert=${pki.caCert}`, context);
    expect(tls.ssl).toMatchObject({ rejectUnauthorized: true, ca: readFileSync(pki.caCert) });
    expect((tls.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBeTypeOf('function');
    expect(thrown(() => postgresTls(`${base}?sslmode=verify-ca`, context)).message).toBe('source "main": sslmode=verify-ca needs sslrootcert=FILE');
  });

  it('verify-full: chain and name (Node checks the name; nothing overrides it), with or without sslrootcert', () => {
    for (const url of [`${base}?sslmode=verify-full`, `${base}?sslmode=verify-full&sslrootcert=${pki.caCert}`, `${base}?sslrootcert=${pki.caCert}`, `${base}?ssl=true`]) {
      const tls = postgresTls(url, context);
      expect(tls.mode, url).toBe('verify-full');
      expect(tls.ssl, url).toMatchObject({ rejectUnauthorized: true });
      expect((tls.ssl as { checkServerIdentity?: unknown }).checkServerIdentity, url).toBeUndefined();
    }
  });

  it("pg's own spellings: sslmode=no-verify and ssl=no-verify accept any certificate, ssl=false disables", () => {
    expect(postgresTls(`${base}?sslmode=no-verify`, context).ssl).toMatchObject({ rejectUnauthorized: false });
    expect(postgresTls(`${base}?ssl=no-verify`, context)).toMatchObject({ mode: 'no-verify', ssl: { rejectUnauthorized: false } });
    expect(postgresTls(`${base}?ssl=false`, context)).toMatchObject({ mode: 'disable', ssl: false });
  });

  it('sslcert and sslkey are a client certificate (sslpassword its passphrase); one without the other is a usage error', () => {
    const tls = postgresTls(`${base}?sslmode=verify-full&sslcert=${pki.clientCert}&sslkey=${pki.clientKey}&sslpassword=kp`, context);
    expect(tls.ssl).toMatchObject({ cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), passphrase: 'kp' });
    expect(tls.connectionString).toBe(base);
    expect(thrown(() => postgresTls(`${base}?sslmode=require&sslcert=${pki.clientCert}`, context)).message).toBe(`source "main": sslcert=${pki.clientCert} needs sslkey`);
  });

  it('a missing sslrootcert is a usage error naming the source, the parameter and the file', () => {
    const error = thrown(() => postgresTls(`${base}?sslmode=verify-full&sslrootcert=${missing}`, context));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`source "main": sslrootcert=${missing}: cannot read the file: no such file`);
    expect(error.message).not.toContain('s3cret');
  });

  it('sslrootcert=system trusts Node\'s CA store and only with verify-full', () => {
    const tls = postgresTls(`${base}?sslrootcert=system`, context);
    expect(tls.mode).toBe('verify-full');
    expect((tls.ssl as { ca?: unknown }).ca).toBeUndefined();
    expect(() => postgresTls(`${base}?sslmode=require&sslrootcert=system`, context)).toThrow(/sslmode=require may not be used with sslrootcert=system/);
  });

  it('an unknown sslmode is a usage error listing the modes', () => {
    expect(thrown(() => postgresTls(`${base}?sslmode=strict`, context)).hint).toContain('verify-full');
  });

  it('--insecure accepts any certificate and name in every TLS mode, and keeps the client certificate', () => {
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      const tls = postgresTls(`${base}?sslmode=${mode}&sslrootcert=${pki.caCert}&sslcert=${pki.clientCert}&sslkey=${pki.clientKey}`, { ...context, insecure: true });
      expect(tls.ssl, mode).toMatchObject({ rejectUnauthorized: false, cert: readFileSync(pki.clientCert) });
      expect((tls.ssl as { checkServerIdentity?: unknown }).checkServerIdentity, mode).toBeTypeOf('function');
    }
    expect(postgresTls(`${base}?sslmode=disable`, { ...context, insecure: true }).ssl).toBe(false);
  });

  it('PGSSLMODE and PGSSLROOTCERT apply when the URL says nothing, as in libpq; the URL wins', () => {
    const env = { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: pki.caCert };
    expect(postgresTls(base, { source: 'main', env })).toMatchObject({ mode: 'verify-ca', connectionString: base, ssl: { rejectUnauthorized: true } });
    expect(postgresTls(`${base}?sslmode=disable`, { source: 'main', env })).toMatchObject({ mode: 'disable', ssl: false });
  });

  it('sslnegotiation=direct needs require or stronger', () => {
    expect(postgresTls(`${base}?sslmode=require&sslnegotiation=direct`, context).sslnegotiation).toBe('direct');
    expect(() => postgresTls(`${base}?sslmode=prefer&sslnegotiation=direct`, context)).toThrow(UsageError);
    expect(() => postgresTls(`${base}?sslnegotiation=sideways`, context)).toThrow(UsageError);
  });
});

describe('MySQL TLS parameters (mysqlTls)', () => {
  const context = { source: 'shop' };
  const base = 'mysql://root:s3cret@db.example:3306/shop';

  it('no ssl-* parameter: the URL goes to mysql2 untouched (no TLS, or its own ssl parameter)', () => {
    expect(mysqlTls(base, context)).toEqual({ uri: base, ssl: undefined, plaintextFallback: false, mode: undefined });
    expect(mysqlTls(`${base}?ssl=%7B%7D`, context).uri).toBe(`${base}?ssl=%7B%7D`);
  });

  it('DISABLED: no TLS; the parameters never reach mysql2 (it warns about unknown options)', () => {
    expect(mysqlTls(`${base}?ssl-mode=DISABLED&charset=utf8mb4`, context)).toEqual({ uri: `${base}?charset=utf8mb4`, ssl: undefined, plaintextFallback: false, mode: 'DISABLED' });
  });

  it('PREFERRED: TLS without verification, plaintext when the server has no TLS', () => {
    expect(mysqlTls(`${base}?ssl-mode=preferred`, context)).toEqual({ uri: base, ssl: { rejectUnauthorized: false, verifyIdentity: false }, plaintextFallback: true, mode: 'PREFERRED' });
  });

  it('REQUIRED: TLS without verification; with ssl-ca the chain is verified (not the name)', () => {
    expect(mysqlTls(`${base}?ssl-mode=REQUIRED`, context).ssl).toEqual({ rejectUnauthorized: false, verifyIdentity: false });
    expect(mysqlTls(`${base}?ssl-mode=REQUIRED&ssl-ca=${pki.caCert}`, context).ssl).toEqual({ ca: readFileSync(pki.caCert), rejectUnauthorized: true, verifyIdentity: false });
  });

  it('VERIFY_CA: the chain against ssl-ca, which it requires', () => {
    expect(mysqlTls(`${base}?ssl-mode=VERIFY_CA&ssl-ca=${pki.caCert}`, context).ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: false });
    expect(thrown(() => mysqlTls(`${base}?ssl-mode=verify-ca`, context)).message).toBe('source "shop": ssl-mode=VERIFY_CA needs ssl-ca=FILE');
  });

  it('VERIFY_IDENTITY, and ssl-* files without ssl-mode: chain and host name', () => {
    for (const url of [`${base}?ssl-mode=VERIFY_IDENTITY`, `${base}?ssl-ca=${pki.caCert}`]) {
      expect(mysqlTls(url, context), url).toMatchObject({ mode: 'VERIFY_IDENTITY', uri: base, ssl: { rejectUnauthorized: true, verifyIdentity: true } });
    }
  });

  it('ssl-cert and ssl-key are a client certificate; one without the other is a usage error', () => {
    const tls = mysqlTls(`${base}?ssl-mode=REQUIRED&ssl-cert=${pki.clientCert}&ssl-key=${pki.clientKey}`, context);
    expect(tls.ssl).toMatchObject({ cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    expect(() => mysqlTls(`${base}?ssl-key=${pki.clientKey}`, context)).toThrow(/ssl-key=.* needs ssl-cert/);
  });

  it('a missing ssl-ca is a usage error naming the source, the parameter and the file', () => {
    const error = thrown(() => mysqlTls(`${base}?ssl-mode=VERIFY_CA&ssl-ca=${missing}`, context));
    expect(error.message).toBe(`source "shop": ssl-ca=${missing}: cannot read the file: no such file`);
  });

  it("an unknown ssl-mode, or mysql2's ssl parameter next to ours, is a usage error", () => {
    expect(thrown(() => mysqlTls(`${base}?ssl-mode=ALWAYS`, context)).hint).toContain('VERIFY_IDENTITY');
    expect(() => mysqlTls(`${base}?ssl-mode=REQUIRED&ssl=%7B%7D`, context)).toThrow(/cannot be combined/);
  });

  it('--insecure accepts any certificate and name', () => {
    expect(mysqlTls(`${base}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`, { ...context, insecure: true }).ssl).toMatchObject({ rejectUnauthorized: false, verifyIdentity: false });
  });
});

describe('preferTls', () => {
  const noTls = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

  it('falls back to plaintext only when the server does not do TLS (pg and mysql2 wordings, also as a cause)', async () => {
    const pgError = new Error('cannot connect', { cause: noTls('The server does not support SSL connections') });
    expect(serverLacksTls(pgError)).toBe(true);
    expect(serverLacksTls(noTls('Server does not support secure connection', 'HANDSHAKE_NO_SSL_SUPPORT'))).toBe(true);
    expect(await preferTls(() => Promise.reject(pgError), () => Promise.resolve('plain'))).toBe('plain');
  });

  it('any other failure stands: a refused certificate is never downgraded to plaintext', async () => {
    const refused = noTls('self-signed certificate', 'SELF_SIGNED_CERT_IN_CHAIN');
    expect(serverLacksTls(refused)).toBe(false);
    await expect(preferTls(() => Promise.reject(refused), () => Promise.resolve('plain'))).rejects.toBe(refused);
    expect(await preferTls(() => Promise.resolve('tls'), () => Promise.resolve('plain'))).toBe('tls');
  });
});

describe('withTlsHint', () => {
  it("a refused certificate or a server without TLS gets a hint naming the URL parameter; other failures are left alone", () => {
    const refused = new ConnectionError('cannot connect to source "main"', { cause: Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
    expect((withTlsHint(refused, 'postgres') as ConnectionError).hint).toMatch(/sslrootcert=FILE.*--insecure/);
    expect((withTlsHint(refused, 'mysql') as ConnectionError).hint).toMatch(/ssl-ca=FILE.*--insecure/);
    expect((withTlsHint(refused, 'mysql') as ConnectionError).message).toBe(refused.message);
    const refusedConnection = new ConnectionError('cannot connect', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(withTlsHint(refusedConnection, 'postgres')).toBe(refusedConnection);
    const usage = new UsageError('x');
    expect(withTlsHint(usage, 'postgres')).toBe(usage);
  });
});
