import { describe, expect, it } from 'vitest';
import { MEMBERS_FIELD } from '../../../src/core/codec-collection.js';
import { manyRowsSql, orderItems } from '../../../src/sources/many-rows-sql.js';
import { attachChildren, membersColumns, RANK_COLUMN, toGroups } from '../../../src/sources/rows.js';
import { quoteMysqlIdentifier } from '../../../src/sources/mysql/identifiers.js';
import { quotePgIdentifier } from '../../../src/sources/postgres/identifiers.js';

const PG = { quote: quotePgIdentifier, nullsClause: true };
const MYSQL = { quote: quoteMysqlIdentifier, nullsClause: false };

describe('orderItems', () => {
  it('quotes every column and writes NULLS FIRST/LAST natively on PostgreSQL', () => {
    expect(orderItems([{ column: 'created at"x', descending: true, nulls: 'last' }, { column: 'Id', descending: false }], PG)).toEqual([
      '"created at""x" DESC NULLS LAST',
      '"Id" ASC',
    ]);
  });
  it('emulates NULLS FIRST/LAST with IS NULL on MySQL, and leaves the default alone when not written', () => {
    expect(orderItems([{ column: 'a`b', descending: false, nulls: 'first' }], MYSQL)).toEqual(['`a``b` IS NULL DESC', '`a``b` ASC']);
    expect(orderItems([{ column: 'a', descending: true, nulls: 'last' }], MYSQL)).toEqual(['`a` IS NULL ASC', '`a` DESC']);
    expect(orderItems([{ column: 'a', descending: true }], MYSQL)).toEqual(['`a` DESC']);
  });
});

describe('manyRowsSql', () => {
  it('without limit orders by key then orderBy over the wrapped statement, keeping its placeholders', () => {
    const sql = manyRowsSql('SELECT * FROM t WHERE k = ANY($1);', ['k'], { orderBy: [{ column: 'at', descending: true }] }, PG);
    expect(sql).toBe('SELECT * FROM (\nSELECT * FROM t WHERE k = ANY($1)\n) AS shadowcheck_rows ORDER BY "k", "at" DESC');
  });
  it('with limit keeps RANK() <= limit per key (ties all kept), the limit a literal', () => {
    const sql = manyRowsSql('SELECT * FROM t WHERE (a, b) IN (?)', ['a', 'b'], { orderBy: [{ column: 'at', descending: false }], limit: 20 }, MYSQL);
    expect(sql).toContain(`RANK() OVER (PARTITION BY \`a\`, \`b\` ORDER BY \`at\` ASC) AS ${RANK_COLUMN}`);
    expect(sql).toContain(`WHERE ${RANK_COLUMN} <= 20 ORDER BY \`a\`, \`b\`, \`at\` ASC`);
    expect(sql.match(/\?/g)).toHaveLength(1);
  });
  it('refuses a limit that is not a positive integer rather than splice it', () => {
    expect(() => manyRowsSql('SELECT 1', ['k'], { limit: 1.5 }, PG)).toThrow(/not a positive integer/);
    expect(() => manyRowsSql('SELECT 1', ['k'], { limit: 0 }, PG)).toThrow(/not a positive integer/);
  });
});

describe('toGroups / attachChildren', () => {
  it('groups rows by id in the order given, drops keyless rows and the rank column', () => {
    const batch = toGroups(
      [
        { k: 1, v: 'b', [RANK_COLUMN]: 1 },
        { k: 2, v: 'x', [RANK_COLUMN]: 1 },
        { k: 1, v: 'a', [RANK_COLUMN]: 2 },
        { k: null, v: 'z' },
      ],
      ['k'],
      5,
    );
    expect([...batch.rows.entries()]).toEqual([
      ['1', { [MEMBERS_FIELD]: [{ k: 1, v: 'b' }, { k: 1, v: 'a' }] }],
      ['2', { [MEMBERS_FIELD]: [{ k: 2, v: 'x' }] }],
    ]);
    expect(batch.nowMs).toBe(5);
    expect(batch.duplicateIds).toBeUndefined();
  });
  it('wraps columns under members without the rank column', () => {
    expect(membersColumns({ v: { kind: 'text', name: 'text' }, [RANK_COLUMN]: { kind: 'integer', name: 'int8' } })).toEqual({
      [MEMBERS_FIELD]: { kind: 'rows', name: 'rows', columns: { v: { kind: 'text', name: 'text' } } },
    });
  });
  it('gives every parent its children, [] for none, without changing the parent rows', () => {
    const parent = { id: 1 };
    const batch = attachChildren({ rows: new Map([['1', parent], ['2', { id: 2 }]]), nowMs: 0, columns: { id: { kind: 'integer', name: 'int4' } } }, 'tags', new Map([['1', [{ t: 'a' }]]]), {
      t: { kind: 'text', name: 'text' },
    });
    expect(batch.rows.get('1')).toEqual({ id: 1, tags: [{ t: 'a' }] });
    expect(batch.rows.get('2')).toEqual({ id: 2, tags: [] });
    expect(parent).toEqual({ id: 1 });
    expect(batch.columns?.['tags']).toEqual({ kind: 'rows', name: 'rows', columns: { t: { kind: 'text', name: 'text' } } });
    expect(batch.columns?.['id']?.kind).toBe('integer');
  });
});
