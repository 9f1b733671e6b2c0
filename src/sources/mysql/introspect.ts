/**
 * The tables of a MySQL/MariaDB source, from information_schema, read in one short
 * `START TRANSACTION READ ONLY` on a connection of its own (closed before returning). Only the
 * database the URL names (`DATABASE()`) is read: a server holds other applications' databases,
 * and a same-named table there that happens to hold more of the probed ids must not be proposed.
 */
import mysql from 'mysql2/promise';
import type { SourceSpec } from '../../config/types.js';
import { UsageError } from '../../errors.js';
import { cannotConnect } from '../errors.js';
import { preferTls, withTlsHint } from '../tls.js';
import { mysqlTls, type MysqlTls } from './tls.js';
import { redactUrl } from '../../util/redact-url.js';
import { assembleTables, type CatalogKey, type TableInfo } from '../../init/catalog.js';
import { mysqlCategory } from './catalog-category.js';
import { introspectionFailed } from '../../init/introspect-error.js';
import { MYSQL_SOURCE, NO_DATABASE, noDatabaseHint } from './descriptor.js';
import type { IntrospectOptions } from '../descriptor.js';

const COLUMNS_SQL = `
SELECT c.TABLE_SCHEMA AS table_schema, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name,
       c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = DATABASE()
ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`;

const KEYS_SQL = `
SELECT s.TABLE_SCHEMA AS table_schema, s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name,
       s.COLUMN_NAME AS column_name
FROM information_schema.STATISTICS s
WHERE s.NON_UNIQUE = 0 AND s.TABLE_SCHEMA = DATABASE()
ORDER BY s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX`;

interface ColumnRow {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
  column_type: string;
}

interface KeyRow {
  table_schema: string;
  table_name: string;
  index_name: string;
  column_name: string | null;
}

async function connect(spec: SourceSpec, uri: string, ssl: MysqlTls['ssl'], timeoutMs: number): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({
      uri,
      ...(ssl === undefined ? {} : { ssl }),
      connectTimeout: Math.max(10_000, timeoutMs),
      multipleStatements: false,
    });
  } catch (error) {
    throw cannotConnect(spec, error);
  }
}

/** init reads one database, so the URL must name it (parseSourceArg checks it before connecting). */
function noDatabase(spec: SourceSpec & { url: string }): UsageError {
  return new UsageError(`source "${spec.name}" (${redactUrl(spec.url)}) names no database: ${NO_DATABASE}`, { hint: noDatabaseHint(spec.name) });
}

export async function introspectMysql(spec: SourceSpec & { url: string }, options: IntrospectOptions): Promise<TableInfo[]> {
  const tls = mysqlTls(spec.url, { source: spec.name, insecure: options.tlsInsecure });
  const open = (ssl: MysqlTls['ssl']) => connect(spec, tls.uri, ssl, options.timeoutMs);
  let conn: mysql.Connection;
  try {
    conn = await (tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(undefined)) : open(tls.ssl));
  } catch (error) {
    throw withTlsHint(error, 'mysql');
  }
  conn.on('error', () => {});
  const timeout = Math.max(1, Math.floor(options.timeoutMs));
  const rows = async <T>(sql: string): Promise<T[]> => {
    const [result] = await conn.query({ sql, timeout });
    return result as T[];
  };
  try {
    // A server-side bound as well: MariaDB's max_statement_time (seconds), else MySQL's (ms).
    await conn.query(`SET SESSION max_statement_time = ${(timeout / 1000).toFixed(3)}`).catch(() =>
      conn.query(`SET SESSION max_execution_time = ${timeout}`).catch(() => undefined),
    );
    await conn.query({ sql: 'START TRANSACTION READ ONLY', timeout });
    const [current] = await rows<{ db: string | null }>('SELECT DATABASE() AS db');
    if (current?.db === null || current?.db === undefined) throw noDatabase(spec);
    const columns = await rows<ColumnRow>(COLUMNS_SQL);
    const keys = await rows<KeyRow>(KEYS_SQL);
    await conn.query({ sql: 'ROLLBACK', timeout });
    return assemble(spec.name, current.db, columns, keys);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw introspectionFailed(spec, error, MYSQL_SOURCE.introspection.failureHint);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

function assemble(source: string, defaultDb: string, columns: readonly ColumnRow[], keys: readonly KeyRow[]): TableInfo[] {
  // information_schema.STATISTICS lists one row per key part, in order: group them by index.
  const indexes = new Map<string, CatalogKey & { columns: (string | null)[] }>();
  for (const k of keys) {
    const name = JSON.stringify([k.table_schema, k.table_name, k.index_name]);
    const index = indexes.get(name) ?? { schema: k.table_schema, table: k.table_name, primary: k.index_name === 'PRIMARY', columns: [] };
    index.columns.push(k.column_name);
    indexes.set(name, index);
  }
  const catalog = columns.map((c) => ({
    schema: c.table_schema,
    table: c.table_name,
    column: { name: c.column_name, dataType: c.column_type, category: mysqlCategory(c.data_type, c.column_type) },
  }));
  return assembleTables(source, 'mysql', catalog, [...indexes.values()], (schema) => schema === defaultDb);
}
