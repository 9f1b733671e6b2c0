import { describe, expect, it, vi } from 'vitest';

/**
 * A database driver is imported when a loader of its kind is created, never before: the registry,
 * the descriptors and createSourceLoader's module load none, so `--version` or `rules validate`
 * never pay for pg or mysql2. Each mock records that its module was imported.
 */
const loaded = vi.hoisted(() => new Set<string>());
vi.mock('pg', async (original) => (loaded.add('pg'), original()));
vi.mock('mysql2/promise', async (original) => (loaded.add('mysql2'), original()));

describe('database drivers load lazily', () => {
  it('importing the registry and createSourceLoader loads no driver; creating a loader loads only its own', async () => {
    const { createSourceLoader } = await import('../../../src/sources/index.js');
    await import('../../../src/sources/registry.js');
    await import('../../../src/init/source-args.js');
    expect([...loaded]).toEqual([]);

    // Port 1 refuses at once: the loader fails to connect, after importing its driver.
    const refused = await createSourceLoader({ name: 'main', kind: 'postgres', url: 'postgres://u@127.0.0.1:1/db' }, { timeoutMs: 2000, maxConnections: 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect([...loaded]).toEqual(['pg']);

    await createSourceLoader({ name: 'shop', kind: 'mysql', url: 'mysql://u@127.0.0.1:1/shop' }, { timeoutMs: 2000, maxConnections: 1 }).catch((e: unknown) => e);
    expect([...loaded].sort()).toEqual(['mysql2', 'pg']);
  });
});
