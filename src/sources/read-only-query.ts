/**
 * The read-only query policy: the one gate every family `query` passes before it is ever sent to
 * its source, whatever the command (audit, explain, init, rules validate --connect). The SQL
 * loaders call `ReadOnlyQueryGuard.require` at the top of `check()` and `load()`, so no command
 * can skip it.
 *
 * Why a parser and not only `BEGIN READ ONLY`: a read-only transaction stops writes to tables, but
 * not everything a SELECT can do. PostgreSQL's large-object functions (`lo_import`,
 * `lo_from_bytea`) write inside it, `dblink_exec` writes through a connection of its own, and
 * MariaDB runs `SELECT ... INTO OUTFILE` in a read-only transaction. So the query itself is parsed
 * with each dialect's parser and accepted only when it is one plain SELECT:
 * - PostgreSQL: libpg-query, PostgreSQL's own parser (compiled to WebAssembly). node-sql-parser's
 *   PostgreSQL grammar refuses real queries (`$1::bigint[]`, `unnest($1::text[], $2::int[])`,
 *   `json_agg(x ORDER BY y)`, `FOR UPDATE`, dollar quoting), so it cannot be the judge there.
 * - MySQL / MariaDB: node-sql-parser's `mariadb` grammar, then its `mysql` one.
 * Accepted: exactly one SELECT (UNION and CTEs of SELECTs included) with no INTO, no locking clause
 * (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE), no data-modifying statement anywhere in it, and no
 * call of a function on the deny lists below. A query the parser cannot read is refused: what we
 * cannot read we cannot vouch for.
 *
 * Why a deny list and not an allow-list of functions: a family's query legitimately calls the
 * database's hundreds of built-in functions, its extensions' and the application's own (a
 * `full_name(u)` SQL function); an allow-list would refuse ordinary queries and still say nothing
 * about a user function's body. The deny list names the built-in and common-extension functions
 * whose side effects a read-only transaction does not stop (or that reach outside the database:
 * files, other connections, other sessions, locks, sequences, settings). What it cannot see, a
 * user-defined function that calls one of them, is what a read-only database role is for: the
 * loaders warn at start when the role they connect as can write (write-access.ts).
 */
import type * as LibPgQuery from 'libpg-query';
import type * as NodeSqlParser from 'node-sql-parser';
import type { FamilyRule } from '../core/rule.js';
import { errorMessage, SourceCheckError } from './errors.js';

export type SqlDialect = 'postgres' | 'mysql';

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

/**
 * MySQL / MariaDB functions refused by name (upper-case). SLEEP and BENCHMARK (and pg_sleep) are
 * not refused: they write nothing, and the statement timeout the loaders set bounds them.
 */
const MYSQL_DENIED = new Set([
  'LOAD_FILE', // reads a server file
  'GET_LOCK', 'RELEASE_LOCK', 'RELEASE_ALL_LOCKS', 'IS_FREE_LOCK', 'IS_USED_LOCK', // named locks outlive the statement
  'MASTER_POS_WAIT', 'SOURCE_POS_WAIT', 'MASTER_GTID_WAIT', 'WAIT_FOR_EXECUTED_GTID_SET', 'WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS',
  'NEXTVAL', 'SETVAL', 'LASTVAL', // MariaDB sequences: nextval/setval write
  'SYS_EXEC', 'SYS_EVAL', 'SYS_GET', 'SYS_SET', // lib_mysqludf_sys: shell commands
]);

/** Why `name` (a function's name as the parser gives it) is refused, or undefined. */
export function deniedFunction(dialect: SqlDialect, name: string): boolean {
  if (dialect === 'mysql') return MYSQL_DENIED.has(name.toUpperCase());
  const lower = name.toLowerCase();
  return PG_DENIED.has(lower) || PG_DENIED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

const EXPECTED = 'one plain SELECT (WITH ... SELECT allowed) without INTO, locking clauses or functions with side effects';

/**
 * What is wrong with `sql` as a family query, or undefined when the policy accepts it. Parsing is
 * the dialect's own; the verdict is a sentence naming what was found and what was expected.
 */
export async function readOnlyQueryProblem(dialect: SqlDialect, sql: string): Promise<string | undefined> {
  return dialect === 'postgres' ? postgresProblem(sql) : mysqlProblem(sql);
}

/**
 * libpg-query compiles its WebAssembly parser as soon as it is imported, so it is imported on the
 * first PostgreSQL query only: checking a rules file without one (`rules validate`) never loads it.
 */
let postgresParser: Promise<typeof LibPgQuery> | undefined;

async function postgresProblem(sql: string): Promise<string | undefined> {
  postgresParser ??= import('libpg-query');
  const { parse } = await postgresParser;
  let tree: { stmts?: { stmt?: Record<string, unknown> }[] };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    return `the query cannot be parsed as PostgreSQL (${errorMessage(error)}); expected ${EXPECTED}`;
  }
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) return `the query holds ${statements.length} statements; expected ${EXPECTED}`;
  const statement = statements[0]?.stmt ?? {};
  const kind = Object.keys(statement)[0] ?? 'nothing';
  if (kind !== 'SelectStmt') return `the query is not a SELECT (${statementName(kind)}); expected ${EXPECTED}`;
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
    if (key.endsWith('Stmt') && key !== 'SelectStmt') return `the query holds a ${statementName(key)}; expected ${EXPECTED}`;
    if (key === 'intoClause') return `the query has SELECT ... INTO, which creates a table; expected ${EXPECTED}`;
    if (key === 'lockingClause') return `the query has a locking clause (FOR UPDATE / FOR SHARE), which takes row locks; expected ${EXPECTED}`;
    if (key === 'FuncCall') {
      const names = ((value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((n) => n.String?.sval ?? '');
      const name = names[names.length - 1] ?? '';
      if (deniedFunction('postgres', name)) return `the query calls ${names.join('.')}(), which has side effects a read-only transaction does not stop; expected ${EXPECTED}`;
    }
    const problem = walkPostgres(value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * node-sql-parser is a large generated parser: like libpg-query, it is loaded on the first MySQL
 * family query only, and one dialect's build at a time (each about a tenth of the all-dialects
 * package, 70 ms to load instead of 180), the MySQL one only when MariaDB's grammar refuses a query.
 */
const mysqlParsers = new Map<'mariadb' | 'mysql', Promise<NodeSqlParser.Parser>>();

function parserFor(database: 'mariadb' | 'mysql'): Promise<NodeSqlParser.Parser> {
  let parser = mysqlParsers.get(database);
  if (parser === undefined) {
    const load = database === 'mariadb' ? import('node-sql-parser/build/mariadb.js') : import('node-sql-parser/build/mysql.js');
    parser = load.then((module) => new module.default.Parser());
    mysqlParsers.set(database, parser);
  }
  return parser;
}

async function mysqlProblem(sql: string): Promise<string | undefined> {
  // MySQL runs the text of a `/*! ... */` comment (MariaDB also `/*M! ... */`); a parser skips it.
  if (/\/\*M?!/.test(sql)) return `the query has an executable comment (/*! ... */), whose SQL the server runs; expected ${EXPECTED}`;
  // A trailing semicolon is a second, empty statement to node-sql-parser.
  const text = sql.replace(/[\s;]+$/, '');
  let parseError: unknown;
  for (const database of ['mariadb', 'mysql'] as const) {
    const parser = await parserFor(database);
    let ast: unknown;
    try {
      ast = parser.astify(text, { database });
    } catch (error) {
      parseError ??= error;
      continue;
    }
    const statements = Array.isArray(ast) ? ast : [ast];
    if (statements.length !== 1) return `the query holds ${statements.length} statements; expected ${EXPECTED}`;
    const type = (statements[0] as { type?: unknown }).type;
    if (type !== 'select') return `the query is not a SELECT (${String(type).toUpperCase()} statement); expected ${EXPECTED}`;
    return walkMysql(statements[0]);
  }
  return `the query cannot be parsed as MySQL/MariaDB (${firstLine(errorMessage(parseError))}); expected ${EXPECTED}`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/**
 * node-sql-parser's tree: a `type` names each statement and expression; a SELECT's `into` has a
 * `position` when it has INTO (OUTFILE, DUMPFILE or variables), `locking_read` its FOR UPDATE /
 * LOCK IN SHARE MODE; functions are `{ type: 'function', name: { name: [{ value }] } }` (older
 * shapes: a plain string name) and aggregates `{ type: 'aggr_func', name }`.
 */
function walkMysql(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const problem = walkMysql(item);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof node !== 'object' || node === null) return undefined;
  const record = node as Record<string, unknown>;
  const type = record['type'];
  if (typeof type === 'string' && ['insert', 'update', 'delete', 'replace', 'create', 'drop', 'alter', 'truncate', 'set', 'call', 'load_data', 'lock', 'unlock', 'grant'].includes(type.toLowerCase())) {
    return `the query holds a ${type.toUpperCase()} statement; expected ${EXPECTED}`;
  }
  const into = record['into'] as { position?: unknown; type?: unknown } | undefined;
  if (type === 'select' && into !== undefined && into !== null && (into.position !== undefined && into.position !== null)) {
    return `the query has SELECT ... INTO (a file or variables); expected ${EXPECTED}`;
  }
  const locking = record['locking_read'];
  if (type === 'select' && locking !== undefined && locking !== null && locking !== '') {
    return `the query has a locking clause (FOR UPDATE / LOCK IN SHARE MODE), which takes row locks; expected ${EXPECTED}`;
  }
  if (type === 'function' || type === 'aggr_func') {
    const name = mysqlFunctionName(record['name']);
    if (name !== undefined && deniedFunction('mysql', name)) return `the query calls ${name}(), which has side effects or holds the connection; expected ${EXPECTED}`;
  }
  for (const value of Object.values(record)) {
    const problem = walkMysql(value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function mysqlFunctionName(name: unknown): string | undefined {
  if (typeof name === 'string') return name;
  const parts = (name as { name?: { value?: unknown }[] } | undefined)?.name;
  if (!Array.isArray(parts)) return undefined;
  const last = parts[parts.length - 1]?.value;
  return typeof last === 'string' ? last : undefined;
}

/** A family's query refused by the read-only policy: a rules-file problem (exit 2). */
export class ReadOnlyQueryError extends SourceCheckError {
  /** What the policy found, without the family's name (for a message located at the query's line). */
  readonly problem: string;

  constructor(family: string, problem: string) {
    super(family, problem, {
      hint: 'shadowcheck sends a family query only when it can read it as one plain SELECT; rewrite it as one, or use `table:` and let the loader write the SELECT',
    });
    this.name = 'ReadOnlyQueryError';
    this.problem = problem;
  }
}

/**
 * Checks each distinct query once per loader (the verdict is a pure function of dialect and text)
 * and refuses a family whose query the policy does not accept. `table` families run SQL the
 * loader writes from quoted identifiers: nothing to check.
 */
export class ReadOnlyQueryGuard {
  private readonly verdicts = new Map<string, Promise<string | undefined>>();

  constructor(private readonly dialect: SqlDialect) {}

  async require(rule: Pick<FamilyRule, 'name' | 'query' | 'table'>): Promise<void> {
    if (rule.table !== undefined || rule.query === undefined) return;
    let verdict = this.verdicts.get(rule.query);
    if (verdict === undefined) {
      verdict = readOnlyQueryProblem(this.dialect, rule.query);
      this.verdicts.set(rule.query, verdict);
    }
    const problem = await verdict;
    if (problem !== undefined) throw new ReadOnlyQueryError(rule.name, problem);
  }
}
