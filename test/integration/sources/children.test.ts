/**
 * `children:` in both SQL loaders on real servers (each parent row gets its child rows, `[]` when
 * none, typed as nested rows), and the --connect check of the names a collection or child uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFamiliesAgainstSources } from '../../../src/audit/rules-check.js';
import { compilePattern } from '../../../src/config/key-pattern.js';
import type { ChildQuery } from '../../../src/core/rule.js';
import { RulesError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { ReadOnlyQueryError } from '../../../src/sources/read-only-query.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

interface Target {
  kind: 'postgres' | 'mysql';
  sandbox(): Promise<Sandbox>;
  schema(t: (name: string) => string): string[];
  reviewsQuery(table: string): string;
  /** The kind of a zone-less DATETIME / an instant timestamptz column. */
  timeKind: string;
  /** A query the read-only policy refuses. */
  refused(table: string): string;
}

const TARGETS: Target[] = [
  {
    kind: 'postgres',
    sandbox: createPgSandbox,
    schema: (t) => [
      `CREATE TABLE ${t('products')} (id int PRIMARY KEY, name text)`,
      `CREATE TABLE ${t('variants')} (product_id int, sku text, price numeric(10,2), added_at timestamptz(3), meta jsonb)`,
      `CREATE TABLE ${t('reviews')} (product_id int, author text, stars int)`,
    ],
    reviewsQuery: (table) => `SELECT product_id, author, stars FROM ${table} WHERE product_id = ANY($1)`,
    timeKind: 'timestamptz',
    refused: (table) => `SELECT product_id, lo_import('/etc/hostname') AS o FROM ${table} WHERE product_id = ANY($1)`,
  },
  {
    kind: 'mysql',
    sandbox: createMysqlSandbox,
    schema: (t) => [
      `CREATE TABLE ${t('products')} (id INT PRIMARY KEY, name VARCHAR(20))`,
      `CREATE TABLE ${t('variants')} (product_id INT, sku VARCHAR(20), price DECIMAL(10,2), added_at DATETIME(3), meta JSON)`,
      `CREATE TABLE ${t('reviews')} (product_id INT, author VARCHAR(20), stars INT)`,
    ],
    reviewsQuery: (table) => `SELECT product_id, author, stars FROM ${table} WHERE product_id IN (?)`,
    timeKind: 'timestamp',
    refused: (table) => `SELECT product_id FROM ${table} WHERE product_id IN (?) INTO OUTFILE '/tmp/x'`,
  },
];

const child = (c: Omit<ChildQuery, 'ordered'>): ChildQuery => ({ ordered: true, ...c });

for (const target of TARGETS) {
  describe(`${target.kind} loader, children`, () => {
    let sandbox: Sandbox;
    let loader: SourceLoader;
    const variants = (overrides: Partial<ChildQuery> = {}) =>
      child({ name: 'variants', table: sandbox.table('variants'), key: ['product_id'], orderBy: [{ column: 'sku', descending: false }], member: 'sku', ...overrides });
    const reviews = (overrides: Partial<ChildQuery> = {}) =>
      child({ name: 'reviews', query: target.reviewsQuery(sandbox.table('reviews')), key: ['product_id'], orderBy: [{ column: 'stars', descending: true }], limit: 2, ...overrides });
    const product = (children: ChildQuery[]) =>
      familyRule({ name: 'product', pattern: compilePattern('product:{id}'), table: sandbox.table('products'), children });

    beforeAll(async () => {
      sandbox = await target.sandbox();
      for (const sql of target.schema((name) => sandbox.table(name))) await sandbox.exec(sql);
      await sandbox.exec(`INSERT INTO ${sandbox.table('products')} (id, name) VALUES (1, 'lamp'), (2, 'desk')`);
      await sandbox.exec(
        `INSERT INTO ${sandbox.table('variants')} (product_id, sku, price, added_at, meta) VALUES ` +
          `(1, 'SKU-2', 12.50, '2024-05-01 10:00:00.250', '{"color":"red","big":12345678901234567890}'), (1, 'SKU-1', 10.00, '2024-05-02 10:00:00', '{}')`,
      );
      await sandbox.exec(`INSERT INTO ${sandbox.table('reviews')} (product_id, author, stars) VALUES (1, 'ann', 5), (1, 'bob', 4), (1, 'cy', 4), (1, 'di', 1)`);
      loader = await createSourceLoader({ name: 'main', kind: target.kind, url: sandbox.url }, { timeoutMs: 5000, maxConnections: 2 });
    });
    afterAll(async () => {
      await loader?.close();
      await sandbox?.drop();
    });

    it('attaches each child\'s rows to its parent, in order, [] for none; a parent without a row stays absent', async () => {
      const batch = await loader.load(product([variants(), reviews()]), ['1', '2', '3']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      const lamp = batch.rows.get('1') as Record<string, Record<string, unknown>[]>;
      expect(lamp['variants']?.map((v) => v['sku'])).toEqual(['SKU-1', 'SKU-2']);
      expect(String(lamp['variants']?.[1]?.['price'])).toBe('12.50');
      // RANK() <= 2 over stars DESC: 5, then the two 4s tied at the boundary.
      expect(lamp['reviews']?.map((r) => r['author']).slice(0, 1)).toEqual(['ann']);
      expect(lamp['reviews']?.map((r) => r['author']).sort()).toEqual(['ann', 'bob', 'cy']);
      expect(batch.rows.get('2')?.['variants']).toEqual([]);
      expect(batch.rows.get('2')?.['reviews']).toEqual([]);
      expect(batch.rows.get('1')?.['name']).toBe('lamp');
    });

    it('types each child as nested rows with its own column types (numeric, time, json)', async () => {
      const batch = await loader.load(product([variants()]), ['1']);
      const type = batch.columns?.['variants'];
      expect(type?.kind).toBe('rows');
      expect(type?.columns?.['price']?.kind).toBe('decimal');
      expect(type?.columns?.['added_at']?.kind).toBe(target.timeKind);
      expect(type?.columns?.['meta']?.kind).toBe('json');
      expect(batch.columns?.['name']?.kind).toBe('text');
      const checked = await loader.check?.(product([variants(), reviews()]));
      expect(checked?.['variants']?.columns?.['price']?.kind).toBe('decimal');
      expect(Object.keys(checked?.['reviews']?.columns ?? {})).toEqual(['product_id', 'author', 'stars']);
      expect(Object.keys(checked ?? {})).toEqual(['id', 'name', 'variants', 'reviews']);
    });

    it('fails the whole batch, naming the child, when a child query fails', async () => {
      const broken = reviews({ query: target.reviewsQuery(sandbox.table('reviews')).replace('author', 'no_such_column') });
      const error = await loader.load(product([variants(), broken]), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as Error).message).toMatch(/family "product\.children\.reviews": .*no_such_column/);
    });

    it("refuses a child's query the read-only policy refuses, at the child's query", async () => {
      const refused = reviews({ query: target.refused(sandbox.table('reviews')) });
      await expect(loader.load(product([refused]), ['1'])).rejects.toThrow(ReadOnlyQueryError);
      const error = await loader.check?.(product([refused])).catch((e: unknown) => e);
      expect((error as ReadOnlyQueryError).path).toEqual(['children', 'reviews', 'query']);
    });

    it('rules validate --connect names each unknown member, score, orderBy and child column with the columns that exist', async () => {
      const families = [
        familyRule({
          name: 'board',
          pattern: compilePattern('board:{id}'),
          type: 'zset',
          codec: 'raw',
          key: ['product_id'],
          table: sandbox.table('reviews'),
          fields: ['author', 'ghost'],
          many: { ordered: false, member: 'player', score: 'points', orderBy: [{ column: 'rating', descending: true }] },
        }),
        product([
          variants({ key: ['prod'], fields: ['sku', 'cost'], member: 'code', orderBy: [{ column: 'position', descending: false }] }),
          reviews(),
        ]),
      ];
      const config = { file: 'rules.yaml', locate: (family: string, path: (string | number)[]) => ({ file: 'rules.yaml', family, line: path.length }) };
      const error = await checkFamiliesAgainstSources(config, families, new Map([['main', loader]])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RulesError);
      const messages = (error as RulesError).problems.map((p) => `${p.family}: ${p.message}`);
      const expected = [
        /^board: "fields" lists "ghost", which is not a column the table \S+ returns; .*Its columns are: product_id, author, stars$/,
        /^board: "member" names "player", which is not a column .*Its columns are: product_id, author, stars$/,
        /^board: "score" names "points", which/,
        /^board: "orderBy" names "rating", which/,
        /^product: child "variants": the key column "prod" is not a column the table \S*variants returns; .*Its columns are: product_id, sku, price, added_at, meta$/,
        /^product: child "variants": "fields" lists "cost", which/,
        /^product: child "variants": "member" names "code", which/,
        /^product: child "variants": "orderBy" names "position", which/,
      ];
      for (const pattern of expected) expect(messages.some((m) => pattern.test(m)), `${pattern} in\n${messages.join('\n')}`).toBe(true);
      expect(messages).toHaveLength(expected.length);
      // The same families with their names fixed pass.
      const fixed = [product([variants(), reviews()])];
      await expect(checkFamiliesAgainstSources(config, fixed, new Map([['main', loader]]))).resolves.toEqual([]);
    });
  });
}
