/**
 * What introspection found in a source: its tables, their columns and keys. Both introspectors
 * (introspect-postgres.ts, introspect-mysql.ts) produce this shape; the inference reads only it.
 */

export type SourceKindName = 'postgres' | 'mysql';

export type ColumnCategory = 'integer' | 'decimal' | 'text' | 'uuid' | 'timestamp' | 'date' | 'boolean' | 'json' | 'other';

export interface ColumnInfo {
  name: string;
  /** The type as the catalog names it (`bigint`, `timestamp with time zone`, `tinyint(1)`). */
  dataType: string;
  category: ColumnCategory;
}

export interface TableInfo {
  /** Name of the source (from --source NAME=URL) the table was found in. */
  source: string;
  kind: SourceKindName;
  schema: string;
  name: string;
  columns: ColumnInfo[];
  /** Columns of the primary key (empty when there is none). */
  primaryKey: string[];
  /** Single-column unique keys other than the primary key. */
  uniqueColumns: string[];
  /** In the connection's search_path (postgres) or its database (mysql): preferred on a tie. */
  inDefaultSchema: boolean;
}

export function qualifiedName(table: Pick<TableInfo, 'schema' | 'name'>): string {
  return `${table.schema}.${table.name}`;
}

/** information_schema.columns.data_type (or udt_name) of PostgreSQL, to a category. */
export function pgCategory(dataType: string): ColumnCategory {
  const t = dataType.toLowerCase();
  if (/^(smallint|integer|bigint|int2|int4|int8|smallserial|serial|bigserial)$/.test(t)) return 'integer';
  if (/^(numeric|decimal|real|double precision|float4|float8|money)$/.test(t)) return 'decimal';
  if (t === 'uuid') return 'uuid';
  if (/^(text|character varying|varchar|character|char|bpchar|citext|name)$/.test(t)) return 'text';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t === 'date') return 'date';
  if (t === 'boolean' || t === 'bool') return 'boolean';
  if (t === 'json' || t === 'jsonb') return 'json';
  return 'other';
}

/** information_schema.COLUMNS of MySQL/MariaDB: DATA_TYPE and COLUMN_TYPE (`tinyint(1)`). */
export function mysqlCategory(dataType: string, columnType: string): ColumnCategory {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) return 'boolean';
  if (t === 'bit' && /^bit\(1\)/i.test(columnType)) return 'boolean';
  if (/^(tinyint|smallint|mediumint|int|integer|bigint)$/.test(t)) return 'integer';
  if (/^(decimal|numeric|float|double|real)$/.test(t)) return 'decimal';
  if (/^(char|varchar|tinytext|text|mediumtext|longtext|enum|set)$/.test(t)) return 'text';
  if (t === 'uuid') return 'uuid';
  if (t === 'datetime' || t === 'timestamp') return 'timestamp';
  if (t === 'date') return 'date';
  if (t === 'json') return 'json';
  return 'other';
}

/** One column as a catalog query lists it. */
export interface CatalogColumn {
  schema: string;
  table: string;
  column: ColumnInfo;
}

/** One key of a table: its columns in order, or null for a part that is an expression. */
export interface CatalogKey {
  schema: string;
  table: string;
  primary: boolean;
  columns: readonly (string | null)[];
}

/**
 * Tables from the rows of both introspectors' catalog queries. A key with an expression part
 * cannot be a key column; single-column unique keys are kept as candidate key columns.
 */
export function assembleTables(
  source: string,
  kind: SourceKindName,
  columns: readonly CatalogColumn[],
  keys: readonly CatalogKey[],
  inDefaultSchema: (schema: string) => boolean,
): TableInfo[] {
  const tables = new Map<string, TableInfo>();
  const id = (schema: string, name: string) => JSON.stringify([schema, name]);
  for (const c of columns) {
    let table = tables.get(id(c.schema, c.table));
    if (table === undefined) {
      table = { source, kind, schema: c.schema, name: c.table, columns: [], primaryKey: [], uniqueColumns: [], inDefaultSchema: inDefaultSchema(c.schema) };
      tables.set(id(c.schema, c.table), table);
    }
    table.columns.push(c.column);
  }
  for (const k of keys) {
    const table = tables.get(id(k.schema, k.table));
    if (table === undefined || k.columns.some((c) => c === null)) continue;
    const names = k.columns as string[];
    if (k.primary) table.primaryKey = names;
    else if (names.length === 1 && !table.uniqueColumns.includes(names[0] as string)) table.uniqueColumns.push(names[0] as string);
  }
  return [...tables.values()];
}
