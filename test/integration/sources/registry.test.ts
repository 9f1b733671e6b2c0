import { describe, expect, it } from 'vitest';
import { ExitCode, ShadowcheckError } from '../../../src/errors.js';
import { createSourceLoader, SOURCE_LOADERS } from '../../../src/sources/index.js';

describe('source loader registry', () => {
  it('has a factory for every source kind', () => {
    expect(Object.keys(SOURCE_LOADERS).sort()).toEqual(['module', 'mysql', 'postgres']);
  });

  it('loads a module source through its module (one that does not exist is a usage error)', async () => {
    const error = await createSourceLoader({ name: 'billing', kind: 'module', module: '/nonexistent/billing.js' }, { timeoutMs: 1000, maxConnections: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShadowcheckError);
    expect((error as ShadowcheckError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).toBe('source "billing": loader module /nonexistent/billing.js does not exist');
  });

  it('rejects a database source without a url', async () => {
    const error = await createSourceLoader({ name: 'main', kind: 'postgres' }, { timeoutMs: 1000, maxConnections: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShadowcheckError);
    expect((error as ShadowcheckError).exitCode).toBe(ExitCode.usage);
  });
});
