import { describe, expect, it } from 'vitest';
import { ExitCode, ShadowcheckError } from '../../../src/errors.js';
import { createSourceLoader, SOURCE_LOADERS } from '../../../src/sources/index.js';

describe('source loader registry', () => {
  it('has a factory for postgres and mysql', () => {
    expect(Object.keys(SOURCE_LOADERS).sort()).toEqual(['mysql', 'postgres']);
  });

  it('rejects the module kind as not supported yet, with a usage exit code', async () => {
    const error = await createSourceLoader({ name: 'billing', kind: 'module', module: './billing.js' }, { timeoutMs: 1000, maxConnections: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShadowcheckError);
    expect((error as ShadowcheckError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).toBe('source "billing": kind "module" is not supported yet');
  });

  it('rejects a database source without a url', async () => {
    const error = await createSourceLoader({ name: 'main', kind: 'postgres' }, { timeoutMs: 1000, maxConnections: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShadowcheckError);
    expect((error as ShadowcheckError).exitCode).toBe(ExitCode.usage);
  });
});
