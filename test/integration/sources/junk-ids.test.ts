/**
 * One id that cannot be a key never hides its batch-mates (pg-isolate.ts). Before, an id such as
 * `abc` against a bigint key failed a `query` family's whole batch: every key became
 * error/source-error, a stale entry among them included, and a --max-error-ratio gate passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceLoader } from '../../../src/sources/index.js';
import { sourceReadOf } from '../../../src/sources/rows.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

describe('ids a postgres query family cannot hold', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;

  beforeAll(async () => {
    sandbox = await createPgSandbox();
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.users (id bigint PRIMARY KEY, name text)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.users SELECT i, 'user ' || i FROM generate_series(1, 600) AS i`);
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.members (tenant text, id int, name text, PRIMARY KEY (tenant, id))`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.members VALUES ('acme', 1, 'one'), ('acme', 2, 'two')`);
    loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: sandbox.url }, { timeoutMs: 5000, maxConnections: 1 });
  });
  afterAll(async () => {
    await loader?.close();
    await sandbox?.drop();
  });

  it('answers the 500 other ids of the batch and reports the junk ids absent, as no row can have them', async () => {
    const rule = familyRule({ name: 'users', query: `SELECT id, name FROM ${sandbox.name}.users WHERE id = ANY($1)` });
    const ids = Array.from({ length: 500 }, (_, i) => String(i + 1));
    ids.splice(250, 0, 'abc');
    ids.push('99999999999999999999999');
    const batch = await loader.load(rule, ids);
    expect(batch.rows.size).toBe(500);
    expect(sourceReadOf(batch, rule, '250')).toMatchObject({ kind: 'row', row: { name: 'user 250' } });
    expect(sourceReadOf(batch, rule, 'abc')).toEqual({ kind: 'absent' });
    expect(sourceReadOf(batch, rule, '99999999999999999999999')).toEqual({ kind: 'absent' });
    expect(batch.failedIds).toBeUndefined();
  });

  it('gives an id its own source-error when the query itself fails on its row, and answers the others', async () => {
    const rule = familyRule({ name: 'boom', query: `SELECT id, name, 1 / (id - 13) AS boom FROM ${sandbox.name}.users WHERE id = ANY($1)` });
    const batch = await loader.load(rule, ['12', '13', '14', 'x']);
    expect([...batch.rows.keys()].sort()).toEqual(['12', '14']);
    expect(sourceReadOf(batch, rule, '13')).toEqual({ kind: 'error', message: expect.stringMatching(/query failed for this id: division by zero/) as string, timeout: false });
    expect(sourceReadOf(batch, rule, 'x')).toEqual({ kind: 'absent' });
  });

  it('isolates a composite id whose part cannot be cast to its column (unnest with typed arrays)', async () => {
    const query = `SELECT tenant, id, name FROM ${sandbox.name}.members WHERE (tenant, id) IN (SELECT * FROM unnest($1::text[], $2::int[]))`;
    const rule = familyRule({ name: 'members', key: ['tenant', 'id'], query });
    const id = (tenant: string, n: string) => JSON.stringify([tenant, n]);
    const batch = await loader.load(rule, [id('acme', '1'), id('acme', 'nope'), id('acme', '2')]);
    expect([...batch.rows.keys()].sort()).toEqual([id('acme', '1'), id('acme', '2')]);
    expect(sourceReadOf(batch, rule, id('acme', 'nope'))).toEqual({ kind: 'absent' });
  });

  it('leaves the session clean: later batches on the same connection still work', async () => {
    const rule = familyRule({ name: 'users', query: `SELECT id, name FROM ${sandbox.name}.users WHERE id = ANY($1)` });
    for (let i = 0; i < 3; i++) {
      expect((await loader.load(rule, ['1', 'junk', '2'])).rows.size).toBe(2);
    }
  });
});
