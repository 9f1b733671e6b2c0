/**
 * What introspection found in a source: its tables, their columns and keys. Every kind's
 * introspector (src/sources/<kind>/introspect.ts) produces this shape; the inference reads only it.
 */
import type { SourceKind } from '../sources/registry.js';

/** The kind of a source init reads (one whose descriptor has an introspection). */
export type SourceKindName = SourceKind;

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
 * Tables from the rows of an introspector's catalog queries. A key with an expression part
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
