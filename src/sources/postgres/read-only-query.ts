/**
 * PostgreSQL's read-only query policy (the shared part, and why a parser: ../read-only-query.ts):
 * the query is parsed by libpg-query, PostgreSQL's own parser compiled to WebAssembly.
 * node-sql-parser's PostgreSQL grammar refuses real queries (`$1::bigint[]`,
 * `unnest($1::text[], $2::int[])`, `json_agg(x ORDER BY y)`, `FOR UPDATE`, dollar quoting), so it
 * cannot be the judge here.
 */
import { setFlagsFromString } from 'node:v8';
import type * as LibPgQuery from 'libpg-query';
import { errorMessage } from '../errors.js';
import { READ_ONLY_EXPECTED } from '../read-only-query.js';

/**
 * PostgreSQL functions refused by name (compared lower-case, schema ignored: `pg_catalog.lo_import`
 * is `lo_import`). Reviewed against the PostgreSQL 15-17 function index and the contrib modules a
 * production database commonly has (dblink, adminpack, pg_background).
 */
const PG_DENIED = new Set([
  // large objects: write (and read server files) inside a read-only transaction
  'loread', 'lowrite',
  // dynamic SQL: runs text the parser never saw
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
  // sequences: nextval/setval write, even in a read-only transaction on older servers
  'nextval', 'setval',
  // settings and notifications reach past the statement
  'set_config', 'pg_notify',
  // other sessions, the server process, replication, statistics
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_signal_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal',
  'pg_switch_xlog', 'pg_promote', 'pg_create_restore_point', 'pg_drop_replication_slot', 'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot', 'pg_log_backend_memory_contexts', 'pg_import_system_collations', 'pg_start_backup',
  'pg_stop_backup', 'pg_backup_start', 'pg_backup_stop', 'pg_sequence_last_value', 'pg_export_snapshot',
  // files on the database server
  'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync',
  'pg_logdir_ls', 'pg_current_logfile',
]);

/** PostgreSQL function name prefixes refused: families of functions with side effects. */
const PG_DENIED_PREFIXES = [
  'lo_', // lo_import, lo_export, lo_from_bytea, lo_create, lo_unlink, lo_put, lo_truncate, ...
  'dblink', // dblink, dblink_exec, dblink_connect, dblink_send_query, ... (another connection)
  'pg_advisory', // session and transaction advisory locks
  'pg_try_advisory',
  'pg_ls_', // directory listings of the server
  'pg_create_', // replication slots, restore points
  'pg_replication_origin_',
  'pg_logical_', // pg_logical_emit_message writes WAL; slot readers consume changes
  'pg_stat_reset', // clears statistics other tools rely on
  'pg_wal_replay_',
  'pg_background_', // pg_background runs SQL in a background worker
];

/** Whether `name` (a function's last name part, as the parser gives it) is refused. */
function deniedFunction(name: string): boolean {
  const lower = name.toLowerCase();
  return PG_DENIED.has(lower) || PG_DENIED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * libpg-query compiles its WebAssembly parser as soon as it is imported, so it is imported on the
 * first PostgreSQL query only: checking a rules file without one (`rules validate`) never loads it.
 */
let postgresParser: Promise<typeof LibPgQuery> | undefined;

/**
 * Starts loading the parser now, so that its WebAssembly compiles on V8's background threads while
 * the caller does other work (`rules validate` parses the YAML meanwhile). Idempotent.
 */
export function preloadPostgresParser(): Promise<typeof LibPgQuery> {
  if (postgresParser === undefined) {
    // Baseline (Liftoff) code only: the parser runs a few times per process, and V8's optimizing
    // tier-up of its 1.7 MB module kept every such process alive 150-350 ms after its work was done
    // (Node waits for the background compile jobs before exiting).
    setFlagsFromString('--liftoff-only');
    postgresParser = import('libpg-query');
  }
  return postgresParser;
}

export async function postgresReadOnlyProblem(sql: string): Promise<string | undefined> {
  const { parse } = await preloadPostgresParser();
  let tree: { stmts?: { stmt?: Record<string, unknown> }[] };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    return `the query cannot be parsed as PostgreSQL (${errorMessage(error)}); expected ${READ_ONLY_EXPECTED}`;
  }
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) return `the query holds ${statements.length} statements; expected ${READ_ONLY_EXPECTED}`;
  const statement = statements[0]?.stmt ?? {};
  const kind = Object.keys(statement)[0] ?? 'nothing';
  if (kind !== 'SelectStmt') return `the query is not a SELECT (${statementName(kind)}); expected ${READ_ONLY_EXPECTED}`;
  return walkPostgres(statement);
}

/** `DeleteStmt` → `DELETE statement`, for messages. */
function statementName(node: string): string {
  return `${node.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()} statement`;
}

/**
 * Walks the whole parse tree (every subquery, CTE, FROM function, expression): libpg-query's JSON
 * names each node by its type, so a statement node other than SelectStmt anywhere (a CTE's DELETE)
 * is found as surely as a function call.
 */
function walkPostgres(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const problem = walkPostgres(item);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key.endsWith('Stmt') && key !== 'SelectStmt') return `the query holds a ${statementName(key)}; expected ${READ_ONLY_EXPECTED}`;
    if (key === 'intoClause') return `the query has SELECT ... INTO, which creates a table; expected ${READ_ONLY_EXPECTED}`;
    if (key === 'lockingClause') return `the query has a locking clause (FOR UPDATE / FOR SHARE), which takes row locks; expected ${READ_ONLY_EXPECTED}`;
    if (key === 'FuncCall') {
      const names = ((value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((n) => n.String?.sval ?? '');
      const name = names[names.length - 1] ?? '';
      if (deniedFunction(name)) return `the query calls ${names.join('.')}(), which has side effects a read-only transaction does not stop; expected ${READ_ONLY_EXPECTED}`;
    }
    const problem = walkPostgres(value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
