import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';

/**
 * Checking the queries of a rules file loads what it needs and nothing more: no database driver
 * ever, the SQL parsers only for a postgres or mysql query, and libpg-query (a WebAssembly
 * module) only for a postgres one. Each mock records that its module was imported; node-sql-parser
 * is loaded with require() (read-only-query.ts says why), which mocks do not see, so it is found in
 * the CommonJS module cache.
 */
const loaded = vi.hoisted(() => new Set<string>());
vi.mock('libpg-query', async (original) => (loaded.add('libpg-query'), original()));
// One dialect's build of node-sql-parser at a time (the MySQL one only when MariaDB's grammar refuses).
vi.mock('node-sql-parser', async (original) => (loaded.add('node-sql-parser (all dialects)'), original()));
vi.mock('pg', async (original) => (loaded.add('pg'), original()));
vi.mock('mysql2/promise', async (original) => (loaded.add('mysql2'), original()));
vi.mock('../../../src/sources/read-only-query.js', async (original) => (loaded.add('read-only-query'), original()));

const SOURCES = `version: 1
sources:
  main: { kind: postgres, url: "postgres://127.0.0.1/app" }
  shop: { kind: mysql, url: "mysql://root@127.0.0.1:3306/shop" }
  api: { kind: module, module: ./loader.js }
families:
`;

function family(name: string, source: string, query: string): string {
  return `  - name: ${name}\n    pattern: "${name}:{id}"\n    source: ${source}\n    query: "${query}"\n    ttl: 300s\n`;
}

describe('loadRulesFile: what the query check loads', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowcheck-query-lazy-'));
    await writeFile(join(dir, 'loader.js'), 'export default () => ({});\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(name: string, families: string): Promise<void> {
    const file = join(dir, name);
    await writeFile(file, SOURCES + families);
    await loadRulesFile(file, {});
    if (Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('node-sql-parser/build/mariadb.js'))) loaded.add('node-sql-parser');
  }

  it('imports the policy only for a SQL query, and libpg-query only for a postgres one; never a driver', async () => {
    await load('tables.yaml', `  - name: users\n    pattern: "user:{id}"\n    source: main\n    table: users\n    ttl: 300s\n` + family('item', 'api', "SELECT lo_import('/x')"));
    expect([...loaded]).toEqual([]);

    await load('mysql.yaml', family('product', 'shop', 'SELECT sku FROM products WHERE sku IN (?)'));
    expect([...loaded].sort()).toEqual(['node-sql-parser', 'read-only-query']);

    await load('postgres.yaml', family('user', 'main', 'SELECT id FROM users WHERE id = ANY($1)'));
    expect([...loaded].sort()).toEqual(['libpg-query', 'node-sql-parser', 'read-only-query']);
  });
});
