/**
 * MySQL's and MariaDB's read-only query policy (the shared part, and why a parser:
 * ../read-only-query.ts): the query is parsed by node-sql-parser's `mariadb` grammar, then its
 * `mysql` one.
 */
import { createRequire } from 'node:module';
import type * as NodeSqlParser from 'node-sql-parser';
import { errorMessage } from '../errors.js';
import { READ_ONLY_EXPECTED } from '../read-only-query.js';

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

/**
 * node-sql-parser is a large generated parser: like libpg-query, it is loaded on the first MySQL
 * family query only, and one dialect's build at a time (each about a tenth of the all-dialects
 * package, 70 ms to load instead of 180), the MySQL one only when MariaDB's grammar refuses a query.
 */
const require = createRequire(import.meta.url);
const mysqlParsers = new Map<'mariadb' | 'mysql', Promise<NodeSqlParser.Parser>>();

function parserFor(database: 'mariadb' | 'mysql'): Promise<NodeSqlParser.Parser> {
  let parser = mysqlParsers.get(database);
  if (parser === undefined) {
    // require, not import(): importing a CommonJS module runs Node's export lexer over its source
    // first, 40 ms for this 1.5 MB file.
    parser = Promise.resolve().then(() => {
      const build = require(database === 'mariadb' ? 'node-sql-parser/build/mariadb.js' : 'node-sql-parser/build/mysql.js') as typeof NodeSqlParser;
      return new build.Parser();
    });
    mysqlParsers.set(database, parser);
  }
  return parser;
}

export async function mysqlReadOnlyProblem(sql: string): Promise<string | undefined> {
  // MySQL runs the text of a `/*! ... */` comment (MariaDB also `/*M! ... */`); a parser skips it.
  if (/\/\*M?!/.test(sql)) return `the query has an executable comment (/*! ... */), whose SQL the server runs; expected ${READ_ONLY_EXPECTED}`;
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
    if (statements.length !== 1) return `the query holds ${statements.length} statements; expected ${READ_ONLY_EXPECTED}`;
    const type = (statements[0] as { type?: unknown }).type;
    if (type !== 'select') return `the query is not a SELECT (${String(type).toUpperCase()} statement); expected ${READ_ONLY_EXPECTED}`;
    return walkMysql(statements[0]);
  }
  return `the query cannot be parsed as MySQL/MariaDB (${firstLine(errorMessage(parseError))}); expected ${READ_ONLY_EXPECTED}`;
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
    return `the query holds a ${type.toUpperCase()} statement; expected ${READ_ONLY_EXPECTED}`;
  }
  const into = record['into'] as { position?: unknown; type?: unknown } | undefined;
  if (type === 'select' && into !== undefined && into !== null && (into.position !== undefined && into.position !== null)) {
    return `the query has SELECT ... INTO (a file or variables); expected ${READ_ONLY_EXPECTED}`;
  }
  const locking = record['locking_read'];
  if (type === 'select' && locking !== undefined && locking !== null && locking !== '') {
    return `the query has a locking clause (FOR UPDATE / LOCK IN SHARE MODE), which takes row locks; expected ${READ_ONLY_EXPECTED}`;
  }
  if (type === 'function' || type === 'aggr_func') {
    const name = mysqlFunctionName(record['name']);
    if (name !== undefined && MYSQL_DENIED.has(name.toUpperCase())) return `the query calls ${name}(), which has side effects or holds the connection; expected ${READ_ONLY_EXPECTED}`;
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
