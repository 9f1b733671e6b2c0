/**
 * `rows: many` in both SQL loaders on real servers: each key's rows under `members` in orderBy
 * order (DESC, NULLS FIRST/LAST, a composite key), RANK() ≤ limit (ties at the boundary all
 * returned), an id with no rows absent, the query form, quoted column names, and --sampling
 * source / --recent drawing each key once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/config/key-pattern.js';
import { MEMBERS_FIELD } from '../../../src/core/codec-collection.js';
import type { ManyRows } from '../../../src/core/rule.js';
import { idFromParts } from '../../../src/core/source-key.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceBatch, SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

interface Target {
  kind: 'postgres' | 'mysql';
  sandbox(): Promise<Sandbox>;
  /** orders(id, user_id, shop, total, created_at, shipped_at, "Placed At", "createdAt"), in the dialect. */
  ordersTable(t: string): string;
  /** The query form of the orders family. */
  query(t: string): string;
  quote(name: string): string;
}

const TARGETS: Target[] = [
  {
    kind: 'postgres',
    sandbox: createPgSandbox,
    ordersTable: (t) =>
      `CREATE TABLE ${t} (id int PRIMARY KEY, user_id int, shop text, total numeric(10,2), created_at timestamptz(3), shipped_at timestamptz(3), "Placed At" int, "createdAt" int)`,
    query: (t) => `SELECT id, user_id, total, created_at FROM ${t} WHERE user_id = ANY($1);`,
    quote: (name) => `"${name}"`,
  },
  {
    kind: 'mysql',
    sandbox: createMysqlSandbox,
    ordersTable: (t) =>
      `CREATE TABLE ${t} (id INT PRIMARY KEY, user_id INT, shop VARCHAR(20), total DECIMAL(10,2), created_at DATETIME(3), shipped_at DATETIME(3), \`Placed At\` INT, \`createdAt\` INT)`,
    query: (t) => `SELECT id, user_id, total, created_at FROM ${t} WHERE user_id IN (?) -- the batch`,
    quote: (name) => `\`${name}\``,
  },
];

const ids = (batch: SourceBatch, id: string): unknown[] => ((batch.rows.get(id)?.[MEMBERS_FIELD] ?? []) as Record<string, unknown>[]).map((r) => Number(r['id']));
const many = (m: Partial<ManyRows>): ManyRows => ({ ordered: true, ...m });
const term = (column: string, descending = false, nulls?: 'first' | 'last') => ({ column, descending, ...(nulls === undefined ? {} : { nulls }) });

for (const target of TARGETS) {
  describe(`${target.kind} loader, rows: many`, () => {
    let sandbox: Sandbox;
    let loader: SourceLoader;
    let orders: string;
    const rule = (m: Partial<ManyRows>, overrides: Parameters<typeof familyRule>[0] extends infer O ? Partial<O> : never = {}) =>
      familyRule({ name: 'orders', pattern: compilePattern('user:{id}:orders'), type: 'list', codec: 'raw', key: ['user_id'], table: orders, many: many(m), ...overrides });

    beforeAll(async () => {
      sandbox = await target.sandbox();
      orders = sandbox.table('orders');
      await sandbox.exec(target.ordersTable(orders));
      const q = target.quote;
      // User 1: two orders tied on created_at (11, 12); 13 unshipped. User 2: one order. User 3: none.
      // User 4: 20 orders (sampling must not draw it 20 times).
      const rows = [
        `(10, 1, 'a', 10.50, '2024-05-03 10:00:00', '2024-05-04 00:00:00', 3, 30)`,
        `(11, 1, 'b', 20.00, '2024-05-02 10:00:00', NULL, 1, 10)`,
        `(12, 1, 'a', 30.00, '2024-05-02 10:00:00', '2024-05-05 00:00:00', 2, 20)`,
        `(13, 1, 'b', 40.00, '2024-05-01 10:00:00', '2024-05-01 12:00:00', NULL, NULL)`,
        `(20, 2, 'a', 5.00, '2024-05-01 10:00:00', NULL, 1, 1)`,
        ...Array.from({ length: 20 }, (_, i) => `(${100 + i}, 4, 'a', 1.00, '2024-04-01 10:00:00', NULL, ${i}, ${i})`),
      ];
      await sandbox.exec(`INSERT INTO ${orders} (id, user_id, shop, total, created_at, shipped_at, ${q('Placed At')}, ${q('createdAt')}) VALUES ${rows.join(', ')}`);
      loader = await createSourceLoader({ name: target.kind, kind: target.kind, url: sandbox.url }, { timeoutMs: 5000, maxConnections: 2 });
    });
    afterAll(async () => {
      await loader?.close();
      await sandbox?.drop();
    });

    it('groups each key\'s rows under members in orderBy order (DESC, then id), an id with no rows absent', async () => {
      const batch = await loader.load(rule({ orderBy: [term('created_at', true), term('id')] }), ['1', '2', '3']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      expect(ids(batch, '1')).toEqual([10, 11, 12, 13]);
      expect(ids(batch, '2')).toEqual([20]);
      // Every column of each row is kept, typed under members.
      const first = (batch.rows.get('1')?.[MEMBERS_FIELD] as Record<string, unknown>[])[0];
      expect(Object.keys(first ?? {}).sort()).toEqual(['Placed At', 'createdAt', 'created_at', 'id', 'shipped_at', 'shop', 'total', 'user_id'].sort());
      const members = batch.columns?.[MEMBERS_FIELD];
      expect(members?.kind).toBe('rows');
      expect(members?.columns?.['total']?.kind).toBe('decimal');
      expect(Object.keys(members?.columns ?? {})).not.toContain('shadowcheck_rank');
    });

    it('orders NULLS LAST and NULLS FIRST as written (emulated where the server has no NULLS clause)', async () => {
      const last = await loader.load(rule({ orderBy: [term('shipped_at', true, 'last'), term('id')] }), ['1']);
      expect(ids(last, '1')).toEqual([12, 10, 13, 11]);
      const first = await loader.load(rule({ orderBy: [term('shipped_at', false, 'first'), term('id')] }), ['1']);
      expect(ids(first, '1')).toEqual([11, 13, 10, 12]);
      // Against each server's default (PostgreSQL: DESC puts NULLs first; MySQL: last), inside RANK() too.
      const descFirst = await loader.load(rule({ orderBy: [term('shipped_at', true, 'first')], limit: 2 }), ['1']);
      expect(ids(descFirst, '1')).toEqual([11, 12]);
      const descLast = await loader.load(rule({ orderBy: [term('shipped_at', true, 'last')], limit: 1 }), ['1']);
      expect(ids(descLast, '1')).toEqual([12]);
    });

    it('returns every row tied at the limit (RANK), and no rank column', async () => {
      // created_at DESC: 10, then 11 and 12 tied for 2nd; limit 2 keeps both.
      const batch = await loader.load(rule({ orderBy: [term('created_at', true)], limit: 2 }), ['1', '2', '3']);
      expect(ids(batch, '1').sort()).toEqual([10, 11, 12]);
      expect(ids(batch, '1')[0]).toBe(10);
      expect(ids(batch, '2')).toEqual([20]);
      expect(batch.rows.has('3')).toBe(false);
      const rows = batch.rows.get('1')?.[MEMBERS_FIELD] as Record<string, unknown>[];
      expect(rows.every((r) => !Object.keys(r).includes('shadowcheck_rank'))).toBe(true);
      expect(Object.keys(batch.columns?.[MEMBERS_FIELD]?.columns ?? {})).not.toContain('shadowcheck_rank');
      // A limit past the ties: exactly the first rows.
      const one = await loader.load(rule({ orderBy: [term('created_at', true), term('id', true)], limit: 3 }), ['1']);
      expect(ids(one, '1')).toEqual([10, 12, 11]);
    });

    it('quotes orderBy columns: a capital letter and a space in the name', async () => {
      const capital = await loader.load(rule({ orderBy: [term('createdAt', true, 'last')], limit: 2 }), ['1']);
      expect(ids(capital, '1')).toEqual([10, 12]);
      const spaced = await loader.load(rule({ orderBy: [term('Placed At', false, 'last')] }), ['1']);
      expect(ids(spaced, '1')).toEqual([11, 12, 10, 13]);
    });

    it('groups by a composite key', async () => {
      const composite = rule({ orderBy: [term('id', true)], limit: 1 }, { key: ['user_id', 'shop'], pattern: compilePattern('user:{id}:{shop}:orders') });
      const batch = await loader.load(composite, [idFromParts(['1', 'a']), idFromParts(['1', 'b']), idFromParts(['2', 'b'])]);
      expect([...batch.rows.keys()].sort()).toEqual([idFromParts(['1', 'a']), idFromParts(['1', 'b'])].sort());
      expect(ids(batch, idFromParts(['1', 'a']))).toEqual([12]);
      expect(ids(batch, idFromParts(['1', 'b']))).toEqual([13]);
    });

    it('wraps the query form (its own placeholder, a trailing comment or semicolon) and ranks it', async () => {
      const batch = await loader.load(rule({ orderBy: [term('created_at', true)], limit: 2 }, { table: undefined, query: target.query(orders) }), ['1', '2', '3']);
      expect(ids(batch, '1')[0]).toBe(10);
      expect(ids(batch, '1').sort()).toEqual([10, 11, 12]);
      expect(batch.rows.has('3')).toBe(false);
      expect(ids(batch, '2')).toEqual([20]);
      expect(Object.keys(batch.columns?.[MEMBERS_FIELD]?.columns ?? {})).toEqual(['id', 'user_id', 'total', 'created_at']);
    });

    it('without limit returns every row of the key', async () => {
      const batch = await loader.load(rule({ orderBy: [term('id', true)] }), ['4']);
      expect(ids(batch, '4')).toHaveLength(20);
      expect(ids(batch, '4')[0]).toBe(119);
    });

    it('check() returns the wrapped column shape', async () => {
      const columns = await loader.check?.(rule({ orderBy: [term('created_at', true)], limit: 2 }, { table: undefined, query: target.query(orders) }));
      expect(Object.keys(columns ?? {})).toEqual([MEMBERS_FIELD]);
      expect(Object.keys(columns?.[MEMBERS_FIELD]?.columns ?? {})).toEqual(['id', 'user_id', 'total', 'created_at']);
    });

    it('check() fails, with what the ranked read needs, when the query repeats the key column\'s name', async () => {
      const placeholder = target.kind === 'postgres' ? 'ANY($1)' : 'IN (?)';
      const cmp = target.kind === 'postgres' ? `o.user_id = ${placeholder}` : `o.user_id ${placeholder}`;
      const repeated = `SELECT o.id, o.user_id, o.created_at, p.user_id FROM ${orders} o JOIN ${orders} p ON p.id = o.id WHERE ${cmp}`;
      const error = await loader.check?.(rule({ orderBy: [term('created_at', true)], limit: 2 }, { table: undefined, query: repeated })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceCheckError);
      // MySQL refuses a derived table with a repeated name in the plain check already.
      if (target.kind === 'postgres') expect((error as SourceCheckError).hint).toMatch(/window functions .* column names must be unique/);
      else expect((error as SourceCheckError).message).toMatch(/Duplicate column name 'user_id'/);
      // A missing orderBy column is left to the rules check, which names the columns: check() answers.
      const columns = await loader.check?.(rule({ orderBy: [term('no_such', true)], limit: 2 }));
      expect(columns?.[MEMBERS_FIELD]?.kind).toBe('rows');
    });

    it('--sampling source draws each key once, whatever its number of rows, and says so', async () => {
      const sampled = await loader.sampleIds?.(rule({ orderBy: [term('id')] }), 10, 7);
      expect(sampled?.ids.sort()).toEqual(['1', '2', '4']);
      expect(sampled?.tableRows).toBe(3);
      expect(sampled?.method).toMatch(/keys with more rows are not favoured/);
      const again = await loader.sampleIds?.(rule({ orderBy: [term('id')] }), 2, 7);
      expect(new Set(again?.ids).size).toBe(2);
      expect(again?.ids).toEqual((await loader.sampleIds?.(rule({ orderBy: [term('id')] }), 2, 7))?.ids);
    });

    it('--recent lists each key once, most recently changed first', async () => {
      await sandbox.exec(`UPDATE ${orders} SET created_at = CURRENT_TIMESTAMP WHERE user_id IN (2, 4)`);
      try {
        const recent = await loader.recentIds?.(rule({ orderBy: [term('id')] }, { updatedAt: 'created_at' }), 3_600_000, 10);
        expect(recent?.sort()).toEqual(['2', '4']);
      } finally {
        await sandbox.exec(`UPDATE ${orders} SET created_at = '2024-05-01 10:00:00' WHERE user_id IN (2, 4)`);
      }
    });
  });
}
