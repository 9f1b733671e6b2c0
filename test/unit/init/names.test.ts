import { describe, expect, it } from 'vitest';
import { mapFieldsToColumns, nameMatchLevel, placeholderName, singular, words } from '../../../src/init/names.js';

describe('names', () => {
  it('splits any naming style into lower-case words', () => {
    expect(words('monthlyApiLimit')).toEqual(['monthly', 'api', 'limit']);
    expect(words('account-limits')).toEqual(['account', 'limits']);
    expect(words('HTTPServer_ID')).toEqual(['http', 'server', 'id']);
  });

  it('makes English plurals singular', () => {
    expect(['users', 'categories', 'boxes', 'status', 'address', 'products'].map(singular)).toEqual(['user', 'category', 'box', 'status', 'address', 'product']);
  });

  it.each([
    ['account-limits', 'account_limits', 3],
    ['user', 'users', 2],
    ['product', 'products', 2],
    ['user', 'app_users', 1],
    ['user', 'orders', 0],
    ['demo', 'users', 0],
  ] as const)('%s names table %s at level %d', (part, table, level) => {
    expect(nameMatchLevel(part, table)).toBe(level);
  });

  it('maps cached fields to columns by exact name, then case, then words', () => {
    const mapping = mapFieldsToColumns(['accountId', 'plan', 'monthlyApiLimit', 'Name', 'extra'], ['account_id', 'plan', 'monthly_api_limit', 'name']);
    expect([...mapping]).toEqual([
      ['plan', 'plan'],
      ['Name', 'name'],
      ['accountId', 'account_id'],
      ['monthlyApiLimit', 'monthly_api_limit'],
    ]);
  });

  it('prefers the exact column when two spellings exist', () => {
    expect(mapFieldsToColumns(['userId'], ['user_id', 'userId']).get('userId')).toBe('userId');
  });

  it('names a placeholder after a column only when the column is a valid placeholder name', () => {
    expect(placeholderName('sku')).toBe('sku');
    expect(placeholderName('order id')).toBe('id');
  });
});
