import { describe, expect, it } from 'vitest';
import { loadSpec, quoteIdentifier } from '../../../src/init/load-spec.js';

describe('loadSpec', () => {
  it('uses the table form for plain names without aliases', () => {
    expect(loadSpec({ kind: 'postgres', schema: 'app', name: 'users' }, 'id', undefined)).toEqual({ table: 'app.users' });
    expect(loadSpec({ kind: 'mysql', schema: 'shop', name: 'Products' }, 'sku', undefined)).toEqual({ table: 'shop.Products' });
  });

  it('selects columns under the cached names, batched as each loader expects', () => {
    const select = [{ column: 'account_id', alias: 'accountId' }, { column: 'plan', alias: 'plan' }, { column: 'monthly_api_limit', alias: 'monthlyApiLimit' }];
    expect(loadSpec({ kind: 'postgres', schema: 'app', name: 'account_limits' }, 'account_id', select)).toEqual({
      query: 'SELECT account_id AS "accountId", plan, monthly_api_limit AS "monthlyApiLimit"\nFROM app.account_limits\nWHERE account_id = ANY($1)',
    });
    expect(loadSpec({ kind: 'mysql', schema: 'shop', name: 'items' }, 'item_id', [{ column: 'item_id', alias: 'itemId' }])).toEqual({
      query: 'SELECT item_id AS `itemId`\nFROM shop.items\nWHERE item_id IN (?)',
    });
  });

  it('quotes names PostgreSQL would fold or read as keywords, and falls back to a query for them', () => {
    expect(loadSpec({ kind: 'postgres', schema: 'App', name: 'user' }, 'id', undefined)).toEqual({ query: 'SELECT *\nFROM "App"."user"\nWHERE id = ANY($1)' });
    expect(quoteIdentifier('order', 'mysql')).toBe('`order`');
    expect(quoteIdentifier('we"ird', 'postgres')).toBe('"we""ird"');
    expect(quoteIdentifier('plain_name', 'postgres')).toBe('plain_name');
  });
});
