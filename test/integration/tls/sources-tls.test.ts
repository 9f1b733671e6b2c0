/**
 * Source TLS parameters against the shared PostgreSQL and MariaDB servers, which do not offer TLS
 * (and must not be reconfigured): what can be checked there is that the parameters reach the
 * drivers with their documented meaning. prefer/PREFERRED fall back to plaintext, require/REQUIRED
 * fail with exit 3 (--insecure never downgrades to plaintext), disable connects, an unreadable CA is
 * exit 2 before any connection, and neither driver warns about the parameters. Verification
 * against a real TLS database is covered by the option-mapping unit tests only
 * (test/unit/cache/tls.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SourceSpec } from '../../../src/config/types.js';
import { ConnectionError, UsageError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { LoaderOptions } from '../../../src/sources/types.js';
import { familyRule, MYSQL_URL, PG_URL } from '../helpers/db.js';

function withParams(url: string, params: Record<string, string>): string {
  const out = new URL(url);
  for (const [name, value] of Object.entries(params)) out.searchParams.set(name, value);
  return out.toString();
}

const OPTIONS: LoaderOptions = { timeoutMs: 3000, maxConnections: 1 };

async function connectAndLoad(spec: SourceSpec, options: LoaderOptions = OPTIONS): Promise<string[]> {
  const loader = await createSourceLoader(spec, options);
  try {
    const query = spec.kind === 'postgres' ? "SELECT 1 AS id WHERE '1' = ANY($1)" : "SELECT 1 AS id FROM DUAL WHERE '1' IN (?)";
    const batch = await loader.load(familyRule({ name: 'tls-probe', query }), ['1']);
    return [...batch.rows.keys()];
  } finally {
    await loader.close();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('postgres source TLS parameters (server without TLS)', () => {
  const spec = (params: Record<string, string>): SourceSpec => ({ name: 'main', kind: 'postgres', url: withParams(PG_URL, params) });

  it('sslmode=prefer falls back to plaintext and loads, with no pg warning about sslmode', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    expect(await connectAndLoad(spec({ sslmode: 'prefer' }))).toEqual(['1']);
    expect(warn.mock.calls.map((c) => String(c[0]))).not.toContainEqual(expect.stringMatching(/SSL|sslmode/));
  });

  it('sslmode=disable connects in plaintext', async () => {
    expect(await connectAndLoad(spec({ sslmode: 'disable' }))).toEqual(['1']);
  });

  it.each([false, true])('sslmode=require fails with exit 3 (the server offers no TLS), never downgrading (insecure: %s)', async (insecure) => {
    const attempt = createSourceLoader(spec({ sslmode: 'require' }), { ...OPTIONS, tlsInsecure: insecure });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(/cannot connect to source "main" .*does not support SSL/);
    expect(((await attempt.catch((e: unknown) => e)) as ConnectionError).hint).toMatch(/offers no TLS: use sslmode=prefer/);
  });

  it('an unreadable sslrootcert is exit 2, naming the source, the parameter and the file', async () => {
    const attempt = createSourceLoader(spec({ sslmode: 'verify-full', sslrootcert: '/nonexistent/root.crt' }), OPTIONS);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow('source "main": sslrootcert=/nonexistent/root.crt: cannot read the file: no such file');
  });
});

describe('mysql source TLS parameters (server without TLS)', () => {
  const spec = (params: Record<string, string>): SourceSpec => ({ name: 'shop', kind: 'mysql', url: withParams(MYSQL_URL, params) });

  it('ssl-mode=PREFERRED falls back to plaintext and loads; mysql2 never sees (nor warns about) the ssl-* parameters', async () => {
    const complain = vi.spyOn(console, 'error');
    expect(await connectAndLoad(spec({ 'ssl-mode': 'PREFERRED' }))).toEqual(['1']);
    expect(await connectAndLoad(spec({ 'ssl-mode': 'DISABLED' }))).toEqual(['1']);
    expect(complain).not.toHaveBeenCalled();
  });

  it.each([false, true])('ssl-mode=REQUIRED fails with exit 3 (the server offers no TLS), never downgrading (insecure: %s)', async (insecure) => {
    const attempt = createSourceLoader(spec({ 'ssl-mode': 'REQUIRED' }), { ...OPTIONS, tlsInsecure: insecure });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(/cannot connect to source "shop" .*(does not support secure connection|SSL)/i);
    expect(((await attempt.catch((e: unknown) => e)) as ConnectionError).hint).toMatch(/offers no TLS: use ssl-mode=PREFERRED/);
  });

  it('an unreadable ssl-ca is exit 2, naming the source, the parameter and the file', async () => {
    const attempt = createSourceLoader(spec({ 'ssl-mode': 'VERIFY_CA', 'ssl-ca': '/nonexistent/ca.pem' }), OPTIONS);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow('source "shop": ssl-ca=/nonexistent/ca.pem: cannot read the file: no such file');
  });
});
