/**
 * `rules validate --connect` through the built CLI on real PostgreSQL and MariaDB: a `rows: many`
 * family's member, score and orderBy columns and a child's key, fields, member and orderBy columns
 * the source does not return exit 2, each at its file:line, naming the family, the field and the
 * columns that exist. A private redis-server (nothing cached), a throwaway schema and temp dir.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { usePrivateRedis } from '../helpers/redis.js';

const ENGINES = [
  { kind: 'postgres' as const, sandbox: createPgSandbox, byIds: (t: string) => `SELECT player, points, user_id FROM ${t} WHERE user_id = ANY($1)` },
  { kind: 'mysql' as const, sandbox: createMysqlSandbox, byIds: (t: string) => `SELECT player, points, user_id FROM ${t} WHERE user_id IN (?)` },
];

for (const engine of ENGINES) {
  describe(`rules validate --connect, rows: many and children on ${engine.kind}`, () => {
    const redisUrl = usePrivateRedis();
    let box: Sandbox;
    let dir: TempDir;

    beforeAll(async () => {
      box = await engine.sandbox();
      dir = await makeTempDir('sc-many-connect-');
      await box.exec(`CREATE TABLE ${box.table('scores')} (user_id INTEGER, player VARCHAR(20), points INTEGER)`);
      await box.exec(`CREATE TABLE ${box.table('products')} (id INTEGER PRIMARY KEY, name VARCHAR(20))`);
      await box.exec(`CREATE TABLE ${box.table('variants')} (product_id INTEGER, sku VARCHAR(20), price DECIMAL(10,2))`);
    });
    afterAll(async () => {
      await dir?.remove();
      await box?.drop();
    });

    it('exits 2 naming each unknown column at its line, with the columns that exist', async () => {
      const lines = [
        'version: 1',
        'sources:',
        `  main: { kind: ${engine.kind}, url: "${box.url}" }`,
        'families:',
        '  - name: board',
        '    pattern: "board:{id}"',
        '    type: zset',
        '    source: main',
        `    query: "${engine.byIds(box.table('scores'))}"`,
        '    key: user_id',
        '    rows: many',
        '    member: name',
        '    score: score',
        '    orderBy: "rank DESC"',
        '    ttl: 300s',
        '  - name: product',
        '    pattern: "product:{id}"',
        '    source: main',
        `    table: ${box.table('products')}`,
        '    key: id',
        '    ttl: 300s',
        '    children:',
        `      variants: { table: ${box.table('variants')}, key: pid, orderBy: position, member: code, fields: [sku, cost] }`,
      ];
      const file = await dir.write('rules.yaml', `${lines.join('\n')}\n`);
      const result = await runCli(['rules', 'validate', file, '--connect', '--redis', redisUrl()]);
      expect(result.code, result.stderr).toBe(2);
      const at = (prefix: string) => `${file}:${lines.findIndex((l) => l.trimStart().startsWith(prefix)) + 1}:`;
      const board = 'Its columns are: player, points, user_id';
      expect(result.stderr).toMatch(new RegExp(`${at('member:')}\\d+ \\(family "board"\\): "member" names "name", which is not a column the query returns; .*${board}`));
      expect(result.stderr).toMatch(new RegExp(`${at('score:')}\\d+ \\(family "board"\\): "score" names "score", which .*${board}`));
      expect(result.stderr).toContain('7 problems in the rules file');
      expect(result.stderr).toMatch(new RegExp(`${at('orderBy:')}\\d+ \\(family "board"\\): "orderBy" names "rank"`));
      const variants = 'Its columns are: product_id, sku, price';
      for (const [what, name] of [
        ['the key column', 'pid'],
        ['"orderBy" names', 'position'],
        ['"member" names', 'code'],
        ['"fields" lists', 'cost'],
      ] as const) {
        expect(result.stderr).toMatch(new RegExp(`${at('variants:')}\\d+ \\(family "product"\\): child "variants": ${what} "${name}".*${variants}`));
      }
    });
  });
}
