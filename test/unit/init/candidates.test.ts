import { describe, expect, it } from 'vitest';
import { agreement, chooseOutcome, idField, nameScore, rankCandidates, type ProbeOutcome } from '../../../src/init/candidates.js';
import { ACCOUNT_LIMITS, ORDERS, PRODUCTS, USERS, pgTable } from './fixtures.js';

const TABLES = [USERS, ACCOUNT_LIMITS, PRODUCTS, ORDERS];

describe('candidate tables', () => {
  it('scores names by the part nearest the placeholder', () => {
    expect(nameScore(['shop', 'product', null], 'products')).toBeGreaterThan(nameScore(['shop', 'product', null], 'shops'));
    expect(nameScore(['demo', 'account-limits', null], 'account_limits')).toBe(9);
  });

  it('ranks name matches first and probes the primary key, then other key-like columns', () => {
    const ranked = rankCandidates({ parts: ['demo', 'user', null], fields: ['id', 'name'], shape: 'digits', idField: 'id', tables: TABLES });
    expect(ranked.map((c) => `${c.table.name}.${c.column}`)).toEqual(['users.id']);
    expect(ranked[0]?.why).toBe('the primary key');
  });

  it('finds a table by its columns when no name matches, and skips key columns the ids cannot fit', () => {
    const ranked = rankCandidates({ parts: ['cache', 'acct', null], fields: ['accountId', 'plan', 'monthlyApiLimit'], shape: 'digits', idField: 'accountId', tables: TABLES });
    expect(ranked.map((c) => `${c.table.name}.${c.column}`)).toEqual(['account_limits.account_id']);
    const skus = rankCandidates({ parts: ['demo', 'product', null], fields: [], shape: 'alnum', idField: undefined, tables: [PRODUCTS, pgTable('x', 'products', { id: 'bigint' }, ['id'])] });
    expect(skus.map((c) => `${c.table.schema}.${c.column}`)).toEqual(['shop.sku']);
  });

  it('finds the cached field that holds the id', () => {
    const payloads = new Map([
      ['1', { accountId: 1, plan: 'pro' }],
      ['2', { accountId: 2, plan: 'free' }],
    ]);
    expect(idField(payloads)).toBe('accountId');
    expect(idField(new Map([['1', { plan: 'x' }]]))).toBeUndefined();
  });

  it('counts agreeing fields, ignoring letter case and spaces', () => {
    expect(agreement({ name: 'A', email: 'X@Y', n: 1 }, { name: 'A', email: 'x@y', n: 2 }, new Map([['name', 'name'], ['email', 'email'], ['n', 'n']]))).toBe(2);
  });

  it('chooses, of the tables holding enough of the ids, the one where most values agree, then most ids exist, then the default schema', () => {
    const outcome = (schema: string, found: number, agreeing: number, inDefaultSchema = false): ProbeOutcome => ({
      candidate: { table: { ...USERS, schema, inDefaultSchema }, column: 'id', why: 'the primary key', nameScore: 6, fieldOverlap: 3 },
      probed: 50,
      found,
      agreement: agreeing,
    });
    expect(chooseOutcome([outcome('a', 10, 30), outcome('b', 48, 100)]).best?.candidate.table.schema).toBe('b');
    // A dense unrelated table holds every id but agrees on nothing; the cache's own table misses
    // the orphaned ids of a stale cache and agrees on most values.
    expect(chooseOutcome([outcome('dense', 50, 0, true), outcome('own', 47, 120)]).best?.candidate.table.schema).toBe('own');
    // Too few ids found is no evidence, however well those few agree.
    expect(chooseOutcome([outcome('few', 10, 500), outcome('b', 48, 100)]).best?.candidate.table.schema).toBe('b');
    expect(chooseOutcome([outcome('a', 48, 100), outcome('b', 49, 100)]).best?.candidate.table.schema).toBe('b');
    expect(chooseOutcome([outcome('a', 48, 90), outcome('b', 48, 100)]).best?.candidate.table.schema).toBe('b');
    const tie = chooseOutcome([outcome('a', 48, 100), outcome('b', 48, 100, true)]);
    expect(tie.best?.candidate.table.schema).toBe('b');
    expect(tie.alike.map((o) => o.candidate.table.schema)).toEqual(['a']);
    expect(chooseOutcome([outcome('a', 5, 10)]).best).toBeUndefined();
    expect(chooseOutcome([]).best).toBeUndefined();
  });
});
