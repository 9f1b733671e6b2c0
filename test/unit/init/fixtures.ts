/** Small catalog fixtures for the init unit tests. */
import { mysqlCategory } from '../../../src/sources/mysql/catalog-category.js';
import { pgCategory } from '../../../src/sources/postgres/catalog-category.js';
import type { TableInfo } from '../../../src/init/catalog.js';

export function pgTable(schema: string, name: string, columns: Record<string, string>, primaryKey: string[], extra: Partial<TableInfo> = {}): TableInfo {
  return {
    source: 'main',
    kind: 'postgres',
    schema,
    name,
    columns: Object.entries(columns).map(([column, type]) => ({ name: column, dataType: type, category: pgCategory(type) })),
    primaryKey,
    uniqueColumns: [],
    inDefaultSchema: false,
    ...extra,
  };
}

export function mysqlTable(schema: string, name: string, columns: Record<string, string>, primaryKey: string[]): TableInfo {
  return {
    source: 'shop',
    kind: 'mysql',
    schema,
    name,
    columns: Object.entries(columns).map(([column, type]) => ({ name: column, dataType: type, category: mysqlCategory(type.replace(/\(.*$/, ''), type) })),
    primaryKey,
    uniqueColumns: [],
    inDefaultSchema: false,
  };
}

export const USERS = pgTable('app', 'users', { id: 'bigint', name: 'text', email: 'text', plan: 'text', version: 'integer', updated_at: 'timestamp with time zone' }, ['id']);
export const ACCOUNT_LIMITS = pgTable('app', 'account_limits', { account_id: 'integer', plan: 'text', monthly_api_limit: 'bigint', api_calls_used: 'integer' }, ['account_id']);
export const PRODUCTS = mysqlTable('shop', 'products', { sku: 'varchar(32)', name: 'varchar(200)', price: 'decimal(10,2)', in_stock: 'tinyint(1)', updated_at: 'datetime(3)' }, ['sku']);
export const ORDERS = pgTable('app', 'orders', { id: 'bigint', user_id: 'bigint', total: 'numeric' }, ['id']);
