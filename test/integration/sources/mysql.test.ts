/** What only the mysql loader has to get right: its session settings and client-side escaping. */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceLoader } from '../../../src/sources/index.js';
import { mysqlLoaderFromPool } from '../../../src/sources/mysql/connect.js';
import type { MysqlPoolLike } from '../../../src/sources/mysql/pool-like.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, familyRule, type Sandbox } from '../helpers/db.js';

describe.runIf((process.env['SHADOWCHECK_LOADERS'] ?? 'mysql').split(',').includes('mysql'))('mysql loader', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;

  beforeAll(async () => {
    sandbox = await createMysqlSandbox();
    await sandbox.exec('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), d DATE)');
    await sandbox.exec("INSERT INTO items VALUES (1, 'alpha', '2024-05-01'), (2, 'beta', NULL), (3, 'gamma', NULL)");
    loader = await createSourceLoader({ name: 'shop', kind: 'mysql', url: sandbox.url }, { timeoutMs: 2000, maxConnections: 2 });
  });
  afterAll(async () => {
    await loader?.close();
    await sandbox?.drop();
  });

  it('pins each batch session to UTC with a statement timeout, and keeps DATE as text', async () => {
    const query = `SELECT id, d, @@SESSION.time_zone AS tz, @@SESSION.max_statement_time AS mst FROM items WHERE id IN (?)`;
    const row = (await loader.load(familyRule({ name: 'items', query }), ['1'])).rows.get('1');
    expect(row?.['tz']).toBe('+00:00');
    expect(Number(row?.['mst'])).toBe(2);
    expect(row?.['d']).toBe('2024-05-01');
  });

  it('quotes table and key names with backticks', async () => {
    await sandbox.exec('CREATE TABLE `order` (`key` VARCHAR(10) PRIMARY KEY, total DECIMAL(8,2))');
    await sandbox.exec("INSERT INTO `order` VALUES ('a1', 3.50)");
    const rule = familyRule({ name: 'orders', table: `${sandbox.name}.\`order\``, key: ['key'] });
    await loader.check?.(rule);
    const batch = await loader.load(rule, ['a1', 'zz']);
    expect([...batch.rows.keys()]).toEqual(['a1']);
    expect(String(batch.rows.get('a1')?.['total'])).toBe('3.50');
  });

  it('keeps an id from breaking out of its string even when the server uses NO_BACKSLASH_ESCAPES', async () => {
    const core = mysql.createPool({ uri: sandbox.url, connectionLimit: 1 });
    // Every connection starts in NO_BACKSLASH_ESCAPES, where mysql2's \' escaping is no escape.
    const pool: MysqlPoolLike = {
      getConnection: async () => {
        const conn = await core.getConnection();
        await conn.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')");
        return conn;
      },
      format: (sql, values) => core.format(sql, values),
      end: () => core.end(),
    };
    const guarded = await mysqlLoaderFromPool(pool, { name: 'shop', kind: 'mysql', url: sandbox.url }, { timeoutMs: 2000, maxConnections: 1 });
    try {
      const hostile = "\\') OR 1=1 -- ";
      const batch = await guarded.load(familyRule({ name: 'items', table: 'items' }), ['1', hostile]);
      expect([...batch.rows.keys()]).toEqual(['1']);
    } finally {
      await guarded.close();
    }
  });
});
