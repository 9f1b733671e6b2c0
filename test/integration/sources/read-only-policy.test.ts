/**
 * The read-only query policy on real servers: what a read-only transaction lets through (large
 * objects, INTO OUTFILE) is refused by the loader itself, in check() and in load(), before the
 * query is sent; a refused query is a rules problem located at its line. Also the write-access
 * warning for a role that can write, and its absence for a read-only one.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFamiliesAgainstSources, sourceRoleWarnings } from '../../../src/audit/rules-check.js';
import { RulesError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { ReadOnlyQueryError } from '../../../src/sources/read-only-query.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, MYSQL_URL, PG_URL, type Sandbox } from '../helpers/db.js';

describe('read-only query policy against postgres', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;
  const role = `sc_ro_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    sandbox = await createPgSandbox();
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.users (id bigint PRIMARY KEY, name text)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.users VALUES (1, 'one')`);
    loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: sandbox.url }, { timeoutMs: 5000, maxConnections: 1 });
  });
  afterAll(async () => {
    await loader?.close();
    await sandbox?.exec(`DROP OWNED BY ${role}`).catch(() => undefined);
    await sandbox?.exec(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await sandbox?.drop();
  });

  it('never creates a large object through lo_from_bytea, in check() or load() (BEGIN READ ONLY alone lets it commit)', async () => {
    const oid = 1_000_000_000 + randomInt(1_000_000_000);
    const rule = familyRule({ name: 'lo', query: `SELECT id, name, lo_from_bytea(${oid}, 'x'::bytea) AS o FROM ${sandbox.name}.users WHERE id = ANY($1)` });
    try {
      await expect(loader.load(rule, ['1'])).rejects.toThrow(ReadOnlyQueryError);
      await expect(loader.check?.(rule)).rejects.toThrow(/family "lo": the query calls lo_from_bytea\(\)/);
      expect(await sandbox.exec('SELECT oid FROM pg_largeobject_metadata WHERE oid = $1', [oid])).toEqual([]);
    } finally {
      await sandbox.exec('SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = $1', [oid]);
    }
  });

  it('reports every refused query at its line in the rules file, and checks the accepted ones', async () => {
    const families = [
      familyRule({ name: 'lo', query: `SELECT id, lo_import('/etc/hostname') AS o FROM ${sandbox.name}.users WHERE id = ANY($1)` }),
      familyRule({ name: 'ok', query: `WITH u AS (SELECT id, name FROM ${sandbox.name}.users WHERE id = ANY($1::bigint[])) SELECT id, name FROM u` }),
      familyRule({ name: 'locks', query: `SELECT id, name FROM ${sandbox.name}.users WHERE id = ANY($1) FOR UPDATE` }),
    ];
    const lines: Record<string, number> = { lo: 7, locks: 19 };
    const config = { file: 'rules.yaml', locate: (family: string) => ({ file: 'rules.yaml', line: lines[family] ?? 1, family }) };
    const error = await checkFamiliesAgainstSources(config, families, new Map([['main', loader]])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RulesError);
    const problems = (error as RulesError).problems;
    expect(problems.map((p) => [p.family, p.line])).toEqual([
      ['lo', 7],
      ['locks', 19],
    ]);
    expect((error as RulesError).message).toMatch(/rules\.yaml:7 \(family "lo"\): the query calls lo_import\(\), which has side effects .*expected one plain SELECT/);
  });

  it('warns when the role can write, and not for a role that can only read', async () => {
    const families = [familyRule({ name: 'users', table: `${sandbox.name}.users` })];
    const warnings = await sourceRoleWarnings(families, new Map([['main', loader]]));
    expect(warnings).toEqual([{ kind: 'rules', family: 'users', message: expect.stringMatching(/^source "main": role "\w+" is a superuser.*read-only database role/) as string }]);

    await sandbox.exec(`CREATE ROLE ${role} LOGIN`);
    await sandbox.exec(`GRANT USAGE ON SCHEMA ${sandbox.name} TO ${role}`);
    await sandbox.exec(`GRANT SELECT ON ALL TABLES IN SCHEMA ${sandbox.name} TO ${role}`);
    // The test database's public schema may grant CREATE to everyone (PostgreSQL < 15 did).
    const url = new URL(PG_URL);
    url.username = role;
    const readOnly = await createSourceLoader({ name: 'ro', kind: 'postgres', url: url.toString() }, { timeoutMs: 5000, maxConnections: 1 });
    try {
      const what = await readOnly.writeAccess?.();
      const publicCreate = (await sandbox.exec(`SELECT has_schema_privilege('${role}', 'public', 'CREATE') AS c, has_database_privilege('${role}', current_database(), 'CREATE') AS d`))[0];
      if (publicCreate?.['c'] === true || publicCreate?.['d'] === true) expect(what).toMatch(/can CREATE in the database/);
      else expect(what).toBeUndefined();
      expect(what ?? '').not.toMatch(/superuser|INSERT/);
    } finally {
      await readOnly.close();
    }
  });
});

describe('read-only query policy against mariadb', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;

  beforeAll(async () => {
    sandbox = await createMysqlSandbox();
    await sandbox.exec('CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, name TEXT)');
    await sandbox.exec("INSERT INTO products VALUES ('a', 'apple')");
    loader = await createSourceLoader({ name: 'shop', kind: 'mysql', url: sandbox.url }, { timeoutMs: 5000, maxConnections: 1 });
  });
  afterAll(async () => {
    await loader?.close();
    await sandbox?.drop();
  });

  it('never writes a server file through INTO OUTFILE or INTO DUMPFILE, in load() (as explain runs it) or check()', async () => {
    for (const form of ['OUTFILE', 'DUMPFILE']) {
      const path = `/tmp/${sandbox.name}_${form.toLowerCase()}.out`;
      const into = form === 'OUTFILE' ? `SELECT sku, name FROM products WHERE sku IN (?) INTO OUTFILE '${path}'` : `SELECT name INTO DUMPFILE '${path}' FROM products WHERE sku IN (?)`;
      const rule = familyRule({ name: 'dump', source: 'shop', key: ['sku'], query: into });
      await expect(loader.load(rule, ['a'])).rejects.toThrow(/family "dump": the query has SELECT \.\.\. INTO/);
      await expect(loader.check?.(rule)).rejects.toThrow(ReadOnlyQueryError);
      // The server would refuse to overwrite an existing file: writing it now proves it was never written.
      await sandbox.exec(`SELECT 1 INTO DUMPFILE '${path}'`);
      // The proof file is the server's: remove it where we may (root may, in the sticky /tmp).
      await rm(path, { force: true }).catch(() => undefined);
    }
  });

  it('accepts a plain SELECT and loads it', async () => {
    const rule = familyRule({ name: 'plain', source: 'shop', key: ['sku'], query: 'SELECT sku, name FROM products WHERE sku IN (?)' });
    expect(await loader.check?.(rule)).toHaveProperty('name');
    expect((await loader.load(rule, ['a'])).rows.get('a')).toEqual({ sku: 'a', name: 'apple' });
  });

  it('warns that root can write', async () => {
    const what = await loader.writeAccess?.();
    expect(what).toMatch(new RegExp(`^user ${new URL(MYSQL_URL).username || 'root'}@\\S+ has ALL`));
  });
});
