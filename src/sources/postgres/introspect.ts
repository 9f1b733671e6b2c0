/**
 * The tables of a PostgreSQL source, from information_schema and pg_catalog, read in one short
 * READ ONLY transaction on a connection of its own (closed before returning). Only the database
 * the URL names is read (a connection sees no other database's catalog); of it, every schema the
 * user can see, except the system ones.
 */
import pg from 'pg';
import type { SourceSpec } from '../../config/types.js';
import type { IntrospectOptions } from '../descriptor.js';
import { POSTGRES_SOURCE } from './descriptor.js';
import { cannotConnect } from '../errors.js';
import { preferTls, withTlsHint } from '../tls.js';
import { postgresTls, type PostgresTls } from './tls.js';
import { assembleTables, type TableInfo } from '../../init/catalog.js';
import { pgCategory } from './catalog-category.js';
import { introspectionFailed } from '../../init/introspect-error.js';

const SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

const COLUMNS_SQL = `
SELECT c.table_schema, c.table_name, c.column_name,
       CASE WHEN c.data_type IN ('USER-DEFINED', 'ARRAY') THEN c.udt_name ELSE c.data_type END AS data_type
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema
WHERE t.table_type IN ('BASE TABLE', 'VIEW') AND ${SYSTEM_SCHEMAS}
ORDER BY c.table_schema, c.table_name, c.ordinal_position`;

// Unique indexes with their columns in order; expressions (attnum 0) are left out by the join.
const KEYS_SQL = `
SELECT n.nspname AS table_schema, cl.relname AS table_name, i.indisprimary AS is_primary,
       array_agg(a.attname::text ORDER BY k.ord) AS columns, count(*) = i.indnatts AS complete
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class cl ON cl.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
WHERE i.indisunique AND ${SYSTEM_SCHEMAS}
GROUP BY n.nspname, cl.relname, i.indexrelid, i.indisprimary, i.indnatts`;

async function connect(spec: SourceSpec, tls: PostgresTls, ssl: PostgresTls['ssl'], timeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: tls.connectionString,
    ...(ssl === undefined ? {} : { ssl }),
    connectionTimeoutMillis: Math.max(10_000, timeoutMs),
    query_timeout: timeoutMs + 5000,
    application_name: 'shadowcheck',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw cannotConnect(spec, error);
  }
}

interface ColumnRow {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
}

interface KeyRow {
  table_schema: string;
  table_name: string;
  is_primary: boolean;
  columns: string[];
  complete: boolean;
}

export async function introspectPostgres(spec: SourceSpec & { url: string }, options: IntrospectOptions): Promise<TableInfo[]> {
  const tls = postgresTls(spec.url, { source: spec.name, insecure: options.tlsInsecure });
  const open = (ssl: PostgresTls['ssl']) => connect(spec, tls, ssl, options.timeoutMs);
  let client: pg.Client;
  try {
    client = await (tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(false)) : open(tls.ssl));
  } catch (error) {
    throw withTlsHint(error, 'postgres');
  }
  try {
    await client.query('BEGIN READ ONLY');
    // Integers we computed, never user text.
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
    const defaults = await client.query<{ schemas: string[] }>('SELECT current_schemas(false)::text[] AS schemas');
    const columns = await client.query<ColumnRow>(COLUMNS_SQL);
    const keys = await client.query<KeyRow>(KEYS_SQL);
    await client.query('ROLLBACK');
    return assemble(spec.name, defaults.rows[0]?.schemas ?? [], columns.rows, keys.rows);
  } catch (error) {
    throw introspectionFailed(spec, error, POSTGRES_SOURCE.introspection.failureHint);
  } finally {
    await client.end().catch(() => {});
  }
}

function assemble(source: string, defaultSchemas: readonly string[], columns: readonly ColumnRow[], keys: readonly KeyRow[]): TableInfo[] {
  const catalog = columns.map((c) => ({
    schema: c.table_schema,
    table: c.table_name,
    column: { name: c.column_name, dataType: c.data_type, category: pgCategory(c.data_type) },
  }));
  // An incomplete key has an expression part: marked with a null column, which assembleTables skips.
  const catalogKeys = keys.map((k) => ({ schema: k.table_schema, table: k.table_name, primary: k.is_primary, columns: k.complete ? k.columns : [null] }));
  return assembleTables(source, 'postgres', catalog, catalogKeys, (schema) => defaultSchemas.includes(schema));
}
