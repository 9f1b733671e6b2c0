/**
 * TLS to Redis against real TLS-only redis-servers started for this file, with a CA, server and
 * client certificates made by openssl in a temporary directory: verification with --tls-ca, the
 * refusal without it (exit 3, naming the certificate), --insecure, the host name check, client
 * certificates, and Sentinel over TLS (rediss+sentinel://). Every server is killed in afterAll.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheReader, type CacheReader } from '../../../src/cache/index.js';
import { ConnectionError, ExitCode, UsageError } from '../../../src/errors.js';
import { waitFor } from '../helpers/redis.js';
import { createTestPki, tlsServerArgs, type TestPki } from '../helpers/tls.js';
import { adminClient, startRedisProcess, stopAll, type RedisProcess } from '../sentinel/servers.js';

let pki: TestPki;
let server: RedisProcess;
let strict: RedisProcess;
let admin: Redis;
const KEYS = ['tls:a', 'tls:b', 'tls:c'];

beforeAll(async () => {
  pki = await createTestPki();
  const ca = readFileSync(pki.caCert);
  const clientTls = { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) };
  [server, strict] = await Promise.all([
    startRedisProcess({ args: (port, dir) => tlsServerArgs(pki, port, dir, 'optional'), probe: { tls: { ca } } }),
    startRedisProcess({ args: (port, dir) => tlsServerArgs(pki, port, dir, 'yes'), probe: { tls: clientTls } }),
  ]);
  admin = await adminClient(server.port, { tls: { ca } });
  for (const [i, key] of KEYS.entries()) await admin.set(key, JSON.stringify({ n: i }), 'EX', 300);
}, 40_000);

afterAll(async () => {
  admin?.disconnect();
  await stopAll();
  await pki?.remove();
});

async function readBack(reader: CacheReader): Promise<string[]> {
  const reads = await reader.read(KEYS.map((k) => Buffer.from(k)), 'string', 1024);
  return reads.map((r) => (r.kind === 'present' ? String(r.value) : r.kind));
}

async function withReader<T>(url: string, tls: Parameters<typeof createCacheReader>[1]['tls'], use: (reader: CacheReader) => Promise<T>): Promise<T> {
  const reader = await createCacheReader(url, { timeoutMs: 3000, ...(tls === undefined ? {} : { tls }) });
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}

const url = (port: number, host = '127.0.0.1') => `rediss://${host}:${port}/0`;

describe('rediss:// with the TLS options', () => {
  it('connects with --tls-ca and reads keys', async () => {
    const values = await withReader(url(server.port), { caFile: pki.caCert }, readBack);
    expect(values).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  });

  it("without the CA, the server's certificate is refused: a connection error (exit 3) about the certificate, with a hint", async () => {
    const error = (await createCacheReader(url(server.port), { timeoutMs: 3000 }).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.exitCode).toBe(ExitCode.connection);
    expect(error.message).toMatch(/^cannot connect to Redis at rediss:\/\/127\.0\.0\.1:\d+\/0: .*certificate/);
    expect(error.hint).toMatch(/--tls-ca FILE.*--insecure/);
  });

  it('a CA that did not sign the server certificate is refused the same way', async () => {
    const attempt = createCacheReader(url(server.port), { timeoutMs: 3000, tls: { caFile: pki.otherCaCert } });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(/certificate/);
  });

  it("the server's name is checked too: an address its certificate does not name is refused", async () => {
    const attempt = createCacheReader(url(server.port, '127.0.0.2'), { timeoutMs: 3000, tls: { caFile: pki.caCert } });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(/127\.0\.0\.2.*(not in the cert's list|altnames|ERR_TLS_CERT_ALTNAME_INVALID)/);
  });

  it('with insecure, it connects without the CA, and to an address the certificate does not name', async () => {
    expect(await withReader(url(server.port), { insecure: true }, readBack)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(await withReader(url(server.port, '127.0.0.2'), { insecure: true }, (r) => r.size())).toBe(KEYS.length);
  });

  it('a server that requires client certificates accepts --tls-cert/--tls-key and refuses a client without them', async () => {
    const size = await withReader(url(strict.port), { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey }, (r) => r.size());
    expect(size).toBe(0);
    const error = (await createCacheReader(url(strict.port), { timeoutMs: 3000, tls: { caFile: pki.caCert } }).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.hint, error.message).toMatch(/client certificates.*--tls-cert FILE --tls-key FILE/);
  });

  it('a plain redis:// URL with --tls-ca is a usage error (exit 2): the user expects TLS', async () => {
    const attempt = createCacheReader(`redis://127.0.0.1:${server.port}/0`, { timeoutMs: 3000, tls: { caFile: pki.caCert } });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/plain-text URL/);
  });

  it('a key that does not belong to the certificate is a usage error naming both files', async () => {
    const attempt = createCacheReader(url(strict.port), { timeoutMs: 3000, tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.serverKey } });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(new RegExp(`--tls-cert ${pki.clientCert}, --tls-key ${pki.serverKey}: unusable TLS material`));
  });
});

describe('rediss+sentinel://: TLS to the sentinel and to the master', () => {
  it('resolves the master through a TLS-only sentinel and reads from it over TLS', async () => {
    const ca = readFileSync(pki.caCert);
    const sentinel = await startRedisProcess({
      mode: ['--sentinel'],
      config: (port, dir) =>
        [
          'port 0',
          `tls-port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `tls-cert-file ${pki.serverCert}`,
          `tls-key-file ${pki.serverKey}`,
          `tls-ca-cert-file ${pki.caCert}`,
          'tls-auth-clients optional',
          // The sentinel reaches the master over TLS too.
          'tls-replication yes',
          `sentinel monitor tlsmaster 127.0.0.1 ${server.port} 1`,
          'sentinel down-after-milliseconds tlsmaster 10000',
          '',
        ].join('\n'),
      args: () => [],
      probe: { tls: { ca } },
    });
    const watcher = await adminClient(sentinel.port, { tls: { ca } });
    try {
      await waitFor(
        async () => {
          const addr = (await watcher.call('SENTINEL', 'get-master-addr-by-name', 'tlsmaster')) as string[] | null;
          const masters = (await watcher.call('SENTINEL', 'master', 'tlsmaster')) as string[];
          const flags = masters[masters.indexOf('flags') + 1] ?? '';
          return addr?.[1] === String(server.port) && flags === 'master';
        },
        15_000,
        'the TLS sentinel to see its master',
        100,
      );
    } finally {
      watcher.disconnect();
    }
    const sentinelUrl = `rediss+sentinel://127.0.0.1:${sentinel.port}/tlsmaster`;
    await withReader(sentinelUrl, { caFile: pki.caCert }, async (reader) => {
      expect(reader.target).toBe(`${sentinelUrl} (master 127.0.0.1:${server.port})`);
      expect(await readBack(reader)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    });
    // Without the CA, the sentinel's own certificate is refused first.
    const error = (await createCacheReader(sentinelUrl, { timeoutMs: 3000 }).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/cannot reach any sentinel of rediss\+sentinel:.*certificate/);
    expect(error.hint).toMatch(/--tls-ca/);
  }, 30_000);
});
