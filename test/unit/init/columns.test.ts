import { describe, expect, it } from 'vitest';
import { mysqlCategory } from '../../../src/sources/mysql/catalog-category.js';
import { pgCategory } from '../../../src/sources/postgres/catalog-category.js';
import { comparedFields, personalFields, pickUpdatedAt, pickVersion } from '../../../src/init/columns.js';
import { mapFieldsToColumns } from '../../../src/init/names.js';
import { PRODUCTS, USERS, pgTable } from './fixtures.js';

describe('column roles', () => {
  it('maps catalog types to categories', () => {
    expect(['bigint', 'numeric', 'text', 'timestamp without time zone', 'boolean', 'jsonb', 'uuid', 'date', 'point'].map(pgCategory)).toEqual([
      'integer',
      'decimal',
      'text',
      'timestamp',
      'boolean',
      'json',
      'uuid',
      'date',
      'other',
    ]);
    expect(mysqlCategory('tinyint', 'tinyint(1)')).toBe('boolean');
    expect(mysqlCategory('tinyint', 'tinyint(4)')).toBe('integer');
    expect(mysqlCategory('datetime', 'datetime(3)')).toBe('timestamp');
  });

  it('picks an integer version column that the cached values hold too', () => {
    const mapping = mapFieldsToColumns(['id', 'name', 'version'], ['id', 'name', 'version', 'updated_at']);
    expect(pickVersion(USERS, { mapping, keyColumn: 'id' })).toEqual({ field: 'version', column: 'version' });
  });

  it('says why a column named like a version is not used', () => {
    const mapping = mapFieldsToColumns(['id', 'name'], ['id', 'name']);
    expect(pickVersion(USERS, { mapping, keyColumn: 'id' })).toEqual({ note: 'column version looks like a version, but the cached values do not hold it' });
    const texty = pgTable('app', 't', { id: 'bigint', revision: 'text' }, ['id']);
    expect(pickVersion(texty, { mapping: new Map([['revision', 'revision']]), keyColumn: 'id' })).toEqual({ note: 'column revision is named like a version but is text, not an integer' });
    expect(pickVersion(PRODUCTS, { mapping: new Map(), keyColumn: 'sku' })).toBeUndefined();
  });

  it('picks a timestamp column named like a change time, by preference', () => {
    expect(pickUpdatedAt(USERS)?.name).toBe('updated_at');
    expect(pickUpdatedAt(PRODUCTS)?.name).toBe('updated_at');
    const both = pgTable('a', 'b', { modifiedAt: 'timestamp', updated_at: 'timestamp', updated_on: 'text' }, []);
    expect(pickUpdatedAt(both)?.name).toBe('updated_at');
    expect(pickUpdatedAt(pgTable('a', 'b', { updated_at: 'text' }, []))).toBeUndefined();
  });

  it('compares the shared fields except the key and the version', () => {
    const mapping = mapFieldsToColumns(['id', 'name', 'email', 'plan', 'version'], USERS.columns.map((c) => c.name));
    expect(comparedFields({ mapping, keyColumn: 'id' }, 'version')).toEqual(['name', 'email', 'plan']);
  });

  it('redacts fields named like personal data', () => {
    expect(personalFields(['name', 'email', 'phoneNumber', 'plan', 'emailVerified', 'password_hash'])).toEqual(['email', 'phoneNumber', 'emailVerified', 'password_hash']);
  });
});
