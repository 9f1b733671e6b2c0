/**
 * Composite keys (`tenant:{tenant}:user:{id}` with `key: [tenant_id, id]`) in both SQL loaders:
 * table form (row constructors), query form (pg: one array per column for unnest; mysql: a list
 * of tuples in one ?), check(), --recent's id listing, and a key part the column cannot hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/config/key-pattern.js';
import { idFromParts } from '../../../src/core/source-key.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

interface Target {
  kind: 'postgres' | 'mysql';
  sandbox(): Promise<Sandbox>;
  createTable(t: string): string;
  /** The query form a rules file writes for this composite key. */
  query(t: string): string;
  /** The usual first mistake in that query, and the hint check() gives for it. */
  mistake(t: string): string;
  hint: RegExp;
}

const TARGETS: Target[] = [
  {
    kind: 'postgres',
    sandbox: createPgSandbox,
    createTable: (t) => `CREATE TABLE ${t} (tenant_id text, id integer, name text, updated_at timestamptz(3), PRIMARY KEY (tenant_id, id))`,
    query: (t) => `SELECT tenant_id, id, name FROM ${t} WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::int[]))`,
    mistake: (t) => `SELECT tenant_id, id, name FROM ${t} WHERE (tenant_id, id) IN (SELECT * FROM unnest($1, $2))`,
    hint: /cast each key column's array to the column's type/,
  },
  {
    kind: 'mysql',
    sandbox: createMysqlSandbox,
    createTable: (t) => `CREATE TABLE ${t} (tenant_id VARCHAR(20), id INT, name VARCHAR(50), updated_at DATETIME(3), PRIMARY KEY (tenant_id, id))`,
    query: (t) => `SELECT tenant_id, id, name FROM ${t} WHERE (tenant_id, id) IN (?)`,
    mistake: (t) => `SELECT tenant_id, id, name FROM ${t} WHERE id IN (?)`,
    hint: /the ids of a composite key are tuples: compare the key columns together, like WHERE \(tenant_id, id\) IN \(\?\)/,
  },
];

const id = (tenant: string, n: string): string => idFromParts([tenant, n]);

for (const target of TARGETS) {
  describe(`${target.kind} loader with a composite key`, () => {
    let sandbox: Sandbox;
    let loader: SourceLoader;
    let users: string;
    const rule = (overrides: Parameters<typeof familyRule>[0] extends infer O ? Partial<O> : never = {}) =>
      familyRule({
        name: 'tenant-user',
        pattern: compilePattern('tenant:{tenant}:user:{id}'),
        key: ['tenant_id', 'id'],
        table: users,
        ...overrides,
      });

    beforeAll(async () => {
      sandbox = await target.sandbox();
      users = sandbox.table('users');
      await sandbox.exec(target.createTable(users));
      // The same id under two tenants: only the pair identifies a row.
      await sandbox.exec(
        `INSERT INTO ${users} (tenant_id, id, name, updated_at) VALUES ` +
          `('acme', 1, 'Ada', CURRENT_TIMESTAMP), ('acme', 2, 'Bob', CURRENT_TIMESTAMP), ('globex', 1, 'Cy', '2000-01-01 00:00:00'), ('o''neil', 3, 'Di', CURRENT_TIMESTAMP)`,
      );
      loader = await createSourceLoader({ name: target.kind, kind: target.kind, url: sandbox.url }, { timeoutMs: 2000, maxConnections: 2 });
    });
    afterAll(async () => {
      await loader?.close();
      await sandbox?.drop();
    });

    it('loads each (tenant, id) pair by table form, telling tenants apart', async () => {
      const batch = await loader.load(rule(), [id('acme', '1'), id('globex', '1'), id('globex', '2'), id("o'neil", '3')]);
      expect([...batch.rows.keys()].sort()).toEqual([id('acme', '1'), id('globex', '1'), id("o'neil", '3')].sort());
      expect(batch.rows.get(id('acme', '1'))?.['name']).toBe('Ada');
      expect(batch.rows.get(id('globex', '1'))?.['name']).toBe('Cy');
    });

    it('loads the same pairs by a query written for the composite key', async () => {
      const batch = await loader.load(rule({ table: undefined, query: target.query(users) }), [id('acme', '2'), id('acme', '9'), id('globex', '1')]);
      expect([...batch.rows.keys()].sort()).toEqual([id('acme', '2'), id('globex', '1')]);
      expect(batch.rows.get(id('acme', '2'))?.['name']).toBe('Bob');
    });

    it('check() accepts both forms and names a key column the table lacks', async () => {
      // check() returns the result's column types: the rules are checked against them.
      await expect(loader.check?.(rule())).resolves.toHaveProperty('tenant_id.kind', 'text');
      await expect(loader.check?.(rule({ table: undefined, query: target.query(users) }))).resolves.toHaveProperty('tenant_id.kind', 'text');
      const error = await loader.check?.(rule({ key: ['tenant_id', 'user_id'] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceCheckError);
      expect((error as Error).message).toMatch(/^family "tenant-user": .*user_id/);
    });

    it('check() explains the usual mistake in a composite-key query', async () => {
      const error = await loader.check?.(rule({ table: undefined, query: target.mistake(users) })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceCheckError);
      expect((error as SourceCheckError).hint).toMatch(target.hint);
    });

    it('treats a part the key column cannot hold as absent without failing the batch (table form)', async () => {
      const batch = await loader.load(rule(), [id('acme', 'x'), id('acme', '1'), id('acme', '99999999999999999999')]);
      expect([...batch.rows.keys()]).toEqual([id('acme', '1')]);
    });

    it('lists recently changed rows by their composite ids for --recent', async () => {
      const ids = await loader.recentIds?.(rule({ updatedAt: 'updated_at' }), 3_600_000, 10);
      expect([...(ids ?? [])].sort()).toEqual([id('acme', '1'), id('acme', '2'), id("o'neil", '3')].sort());
    });
  });
}
