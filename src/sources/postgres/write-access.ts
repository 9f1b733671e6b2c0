/** Whether the PostgreSQL role a loader connects as could write (see ../write-access.ts for why it is asked). */

/**
 * PostgreSQL: superuser, the roles that reach the server's files or programs, CREATE on the
 * database or a schema, and INSERT/UPDATE/DELETE/TRUNCATE on any table, view or foreign table
 * outside the system schemas (EXISTS stops at the first one).
 */
export const POSTGRES_WRITE_ACCESS_SQL = `SELECT current_user AS role,
  coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
  pg_has_role(current_user, 'pg_write_server_files', 'USAGE') OR pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS server_files,
  has_database_privilege(current_database(), 'CREATE') AS create_database,
  EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
          AND has_schema_privilege(n.oid, 'CREATE')) AS create_schema,
  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')) AS table_write`;

/** What POSTGRES_WRITE_ACCESS_SQL's one row says the role can do, or undefined when it cannot write. */
export function postgresWriteAccess(row: Record<string, unknown> | undefined): string | undefined {
  if (row === undefined) return undefined;
  const can: string[] = [];
  if (row['superuser'] === true) can.push('is a superuser');
  if (row['server_files'] === true) can.push("writes the server's files (pg_write_server_files / pg_execute_server_program)");
  if (row['table_write'] === true) can.push('has INSERT, UPDATE, DELETE or TRUNCATE on tables');
  if (row['create_database'] === true || row['create_schema'] === true) can.push('can CREATE in the database');
  return can.length === 0 ? undefined : `role "${String(row['role'])}" ${can.join(', ')}`;
}
