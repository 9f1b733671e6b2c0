/**
 * MySQL / MariaDB source loader (mysql2/promise).
 *
 * One batch = one short read-only transaction on a pooled connection:
 *   1. `SET SESSION time_zone = '+00:00', <statement timeout>, lock_wait_timeout = N`;
 *   2. `START TRANSACTION READ ONLY`;
 *   3. `SELECT FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000)`: the database clock, epoch ms;
 *   4. the family's query with its one `?` expanded to the batch (`IN (?)` becomes
 *      `IN ('1', '2')`), or `SELECT * FROM <table> WHERE <key> IN (?)`;
 *   5. `COMMIT` (`ROLLBACK` after an error).
 * The session settings are repeated for every batch rather than cached per connection: one round
 * trip buys certainty that no pooled or proxied connection reads TIMESTAMPs in another zone.
 *
 * Statement timeout: MariaDB's `max_statement_time` (seconds), else MySQL's `max_execution_time`
 * (ms, SELECT only), detected once at connect by trying them. On a server with neither, only the
 * client-side timeout below protects the audit (it abandons and destroys the connection; the
 * server may run the query to its end).
 *
 * Types (exactTypeCast): DATETIME is wall-clock time in the source's `timezone` (default UTC),
 * TIMESTAMP an instant (the session zone is pinned to UTC so the server sends TIMESTAMPs in UTC),
 * both with their microseconds; DATE stays `YYYY-MM-DD` text (as in the postgres loader); DECIMAL
 * and BIGINT keep their exact text as LosslessNumbers; TINYINT(1) is the integer it stores; JSON is
 * parsed losslessly (mysql-type-cast.ts). Each batch carries its columns' types (mysql-column-types.ts).
 *
 * Ids are escaped by mysql2 on the client (`query`, not `execute`: only `query` expands an array
 * into a list). Its escaping relies on backslashes, so a session with NO_BACKSLASH_ESCAPES would
 * let a crafted key name break out of its string: the loader removes that mode from its sessions.
 */
import mysql from 'mysql2/promise';
import type { SourceSpec } from '../../config/types.js';
import type { ColumnTypes } from '../../core/column-type.js';
import type { FamilyRule } from '../../core/rule.js';
import { idParts, rowId } from '../../core/source-key.js';
import { ConnectionCap } from '../connection-cap.js';
import { batchFailed, cannotConnect, checkFailed, errorCode, errorMessage, NETWORK_ERROR_CODES, probeFailed, requireUrl, SourceCheckError } from '../errors.js';
import { mysqlTableName, quoteMysqlIdentifier } from './identifiers.js';
import { mysqlColumnTypes, type MysqlColumnDefinition } from './column-types.js';
import { exactTypeCast } from './type-cast.js';
import { requireKeyColumn, requireRecentColumns, positiveInt, stripTrailingSemicolons, toBatch } from '../rows.js';
import { ReadOnlyQueryGuard } from '../read-only-query.js';
import { mysqlWriteAccess } from './write-access.js';
import { preferTls, withTlsHint } from '../tls.js';
import { mysqlTls, type MysqlTls } from './tls.js';
import { SourceQueryError, type LoaderOptions, type SourceBatch, type SourceLoader, type SourceLoaderFactory } from '../types.js';

/** A result column as mysql2 describes it (type code, length, flags, charset; mysql-column-types.ts reads them). */
export type MysqlFieldLike = MysqlColumnDefinition;

/** What the loader sends: mysql2's QueryOptions subset (`timeout` is client-side, ms). */
export interface MysqlQueryOptions {
  sql: string;
  values?: unknown[];
  timeout?: number;
}

/** The part of a mysql2/promise pool connection the loader uses. */
export interface MysqlConnectionLike {
  /** The server's connection id (mysql2 sets it): lets activity() leave the audit's own sessions out. */
  threadId?: number | null;
  /** Resolves `[rows, fields]` for a SELECT, `[ResultSetHeader, undefined]` otherwise. */
  query(options: MysqlQueryOptions): Promise<[unknown, MysqlFieldLike[] | undefined]>;
  release(): void;
  /** Closes the connection and drops it from the pool. */
  destroy(): void;
}

/** The part of a mysql2/promise Pool the loader uses (structural: no mysql2 types leak out). */
export interface MysqlPoolLike {
  getConnection(): Promise<MysqlConnectionLike>;
  /** mysql2's own placeholder substitution, used to count the `?` a query has. */
  format(sql: string, values?: unknown): string;
  end(): Promise<void>;
}

/** Time past the statement timeout after which the client gives up on a silent server. */
const CLIENT_TIMEOUT_GRACE_MS = 5000;

/**
 * Opens a pool on the source's URL, verifies it, and returns a ready loader. TLS comes from the
 * URL's ssl-mode/ssl-ca/ssl-cert/ssl-key (src/sources/tls.ts); with ssl-mode=PREFERRED, a server
 * without TLS is connected to again in plaintext.
 */
export const createMysqlLoader: SourceLoaderFactory = async (spec, options) => {
  const tls = mysqlTls(requireUrl(spec), { source: spec.name, insecure: options.tlsInsecure === true });
  const open = (ssl: MysqlTls['ssl']) => openMysqlLoader(spec, options, tls.uri, ssl);
  const connecting = tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(undefined)) : open(tls.ssl);
  return connecting.catch((error: unknown) => {
    throw withTlsHint(error, 'mysql');
  });
};

function openMysqlLoader(spec: SourceSpec, options: LoaderOptions, uri: string, ssl: MysqlTls['ssl']): Promise<SourceLoader> {
  const pool = mysql.createPool({
    uri,
    ...(ssl === undefined ? {} : { ssl }),
    connectionLimit: positiveInt(options.maxConnections, 1),
    // Explicit options win over the URL's query string in mysql2, so these cannot be undone there.
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    dateStrings: ['DATE'],
    typeCast: exactTypeCast(spec.timezone),
    multipleStatements: false,
    connectTimeout: Math.max(10_000, positiveInt(options.timeoutMs, 5000)),
    enableKeepAlive: true,
  });
  return mysqlLoaderFromPool(pool, spec, options);
}


/**
 * The client-side query timeout, kept here rather than handed to mysql2: mysql2 leaves its own
 * timer running when the connection dies (a KILL, a restart), which kept the process alive for
 * --timeout + 5 s after the audit ended. This timer is unref'd and always cleared; when it fires
 * the connection is destroyed, as mysql2 would, with the same error code.
 */
function withQueryTimeout(conn: MysqlConnectionLike): MysqlConnectionLike {
  const guarded: MysqlConnectionLike = {
    async query(options) {
      const { timeout, ...rest } = options;
      if (timeout === undefined) return conn.query(rest);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          conn.destroy();
          reject(Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }));
        }, timeout);
        timer.unref();
      });
      try {
        return await Promise.race([conn.query(rest), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    release: () => conn.release(),
    destroy: () => conn.destroy(),
  };
  if (conn.threadId !== undefined) guarded.threadId = conn.threadId;
  return guarded;
}

/** How the server bounds one statement's run time. */
type TimeoutMode = 'max_statement_time' | 'max_execution_time' | 'client-only';

/** A ready loader over an existing pool. Verifies the connection; ends the pool if that fails. */
export async function mysqlLoaderFromPool(pool: MysqlPoolLike, spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  const timeoutMs = positiveInt(options.timeoutMs, 5000);
  let mode: TimeoutMode;
  let sqlMode: string | undefined;
  try {
    const conn = withQueryTimeout(await pool.getConnection());
    try {
      const [rows] = await conn.query({ sql: 'SELECT @@SESSION.sql_mode AS sql_mode', timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS });
      const current = Array.isArray(rows) ? (rows[0] as { sql_mode?: unknown } | undefined)?.sql_mode : undefined;
      sqlMode = typeof current === 'string' ? withoutBackslashMode(current) : undefined;
      mode = await detectTimeoutMode(conn, timeoutMs);
      conn.release();
    } catch (error) {
      conn.destroy();
      throw error;
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw cannotConnect(spec, error);
  }
  return new MysqlLoader(pool, spec, timeoutMs, mode, sqlMode, options);
}

/** The session's sql_mode without NO_BACKSLASH_ESCAPES, or undefined when it does not have it. */
function withoutBackslashMode(sqlMode: string): string | undefined {
  const modes = sqlMode.split(',').filter((m) => m !== '');
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return undefined;
  const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES');
  // Mode names are [A-Z_] words; anything else is not pasted into SQL.
  return kept.every((m) => /^[A-Z0-9_]+$/.test(m)) ? kept.join(',') : '';
}

/** MariaDB has max_statement_time, MySQL 5.7.8+ max_execution_time; error 1193 means unknown. */
async function detectTimeoutMode(conn: MysqlConnectionLike, timeoutMs: number): Promise<TimeoutMode> {
  for (const mode of ['max_statement_time', 'max_execution_time'] as const) {
    try {
      await conn.query({ sql: `SET SESSION ${mode} = ${timeoutSetting(mode, timeoutMs)}`, timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS });
      return mode;
    } catch (error) {
      if (errno(error) !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
    }
  }
  return 'client-only';
}

function timeoutSetting(mode: 'max_statement_time' | 'max_execution_time', timeoutMs: number): string {
  return mode === 'max_statement_time' ? (timeoutMs / 1000).toFixed(3) : String(timeoutMs);
}

const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

function errno(error: unknown): number | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { errno?: unknown }).errno : undefined;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Timeouts: 1969 ER_STATEMENT_TIMEOUT (MariaDB max_statement_time), 3024 ER_QUERY_TIMEOUT (MySQL
 * max_execution_time), 1317 ER_QUERY_INTERRUPTED (KILL QUERY), 1205 ER_LOCK_WAIT_TIMEOUT, and
 * mysql2's client-side timeout. mysql2 leaves `code` undefined for MariaDB-only errors, so errno
 * decides.
 */
const TIMEOUT_ERRNOS: ReadonlySet<number> = new Set([1969, 3024, 1317, 1205]);

/**
 * Connection-level: the server refused or dropped us (access denied, unknown database, too many
 * connections, shutdown, connection killed, server gone / lost) or mysql2 marked the error fatal.
 */
const CONNECTION_ERRNOS: ReadonlySet<number> = new Set([1040, 1044, 1045, 1049, 1053, 1077, 1080, 1129, 1130, 1203, 1226, 1927, 2002, 2003, 2006, 2013]);
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_HANDSHAKE_TWICE',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN',
  'ER_SHUTDOWN_COMPLETE',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_NOT_SUPPORTED_AUTH_MODE',
]);

/**
 * The server refused a new connection for a connection limit: 1040 ER_CON_COUNT_ERROR
 * (max_connections), 1203 ER_TOO_MANY_USER_CONNECTIONS (the max_user_connections variable), and
 * 1226 ER_USER_LIMIT_REACHED for an account's MAX_USER_CONNECTIONS (not its hourly limits, which
 * waiting for a connection does not lift). The loader then runs fewer batches at once (connection-cap.ts).
 */
export function isMysqlConnectionLimit(error: unknown): boolean {
  const number = errno(error);
  const code = errorCode(error);
  if (number === 1040 || number === 1203 || code === 'ER_CON_COUNT_ERROR' || code === 'ER_TOO_MANY_USER_CONNECTIONS') return true;
  return (number === 1226 || code === 'ER_USER_LIMIT_REACHED') && /'max_user_connections'/.test(errorMessage(error));
}

/**
 * Connections a mysql2 pool has open or is opening: its connection list, which a connection that
 * failed to open has left by the time the caller hears of it. mysql2 has no public count, so this
 * reads its list where mysql2 3.x keeps it; anything else (another pool) says undefined.
 */
function mysqlPoolSize(pool: MysqlPoolLike): number | undefined {
  const length = (pool as { pool?: { _allConnections?: { length?: unknown } } }).pool?._allConnections?.length;
  return typeof length === 'number' ? length : undefined;
}

type Failure = 'connection' | 'timeout' | 'query';

function classify(error: unknown): Failure {
  const code = errorCode(error);
  const number = errno(error);
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || (number !== undefined && TIMEOUT_ERRNOS.has(number))) return 'timeout';
  if (code !== undefined && (NETWORK_ERROR_CODES.has(code) || CONNECTION_CODES.has(code))) return 'connection';
  if (number !== undefined && CONNECTION_ERRNOS.has(number)) return 'connection';
  if ((error as { fatal?: unknown } | null)?.fatal === true) return 'connection';
  if (/^Pool is closed|in closed state|Can't write in closed state/.test(errorMessage(error))) return 'connection';
  return 'query';
}

/**
 * What the query's one `?` expands to: the ids (`IN ('1', '2')`), or for a composite key one
 * nested list per id, which mysql2 writes as row constructors (`IN (('acme', '1'), ('acme', '2'))`).
 */
function batchValues(rule: FamilyRule, ids: readonly string[]): unknown[] {
  return rule.key.length === 1 ? [...ids] : ids.map((id) => idParts(id, rule.key.length));
}

/** A value never found in a query, so that its presence after `format` marks a placeholder. */
const PLACEHOLDER_PROBE = 7_391_846_250_183_627;

class MysqlLoader implements SourceLoader {
  private readonly sessionSql: string;
  private readonly guard = new ReadOnlyQueryGuard('mysql');
  private closing: Promise<void> | undefined;
  private writeAccessOnce: Promise<string | undefined> | undefined;
  private readonly cap: ConnectionCap<MysqlConnectionLike>;

  constructor(
    private readonly pool: MysqlPoolLike,
    private readonly spec: SourceSpec,
    private readonly timeoutMs: number,
    private readonly mode: TimeoutMode,
    sqlMode: string | undefined,
    options: LoaderOptions,
  ) {
    this.cap = new ConnectionCap({
      source: spec.name,
      maxConnections: positiveInt(options.maxConnections, 1),
      acquire: async () => withQueryTimeout(await this.pool.getConnection()),
      isLimitRefusal: isMysqlConnectionLimit,
      openConnections: () => mysqlPoolSize(this.pool),
      // As long as connecting may take (connectTimeout).
      patienceMs: Math.max(10_000, timeoutMs),
      log: options.log,
    });
    // Only numbers we computed and server-provided mode names: nothing from the rules file.
    const settings = [`time_zone = '+00:00'`, `lock_wait_timeout = ${Math.max(1, Math.ceil(timeoutMs / 1000))}`];
    if (mode !== 'client-only') settings.push(`${mode} = ${timeoutSetting(mode, timeoutMs)}`);
    if (sqlMode !== undefined) settings.push(`sql_mode = '${sqlMode}'`);
    this.sessionSql = `SET SESSION ${settings.join(', ')}`;
  }

  async load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch> {
    // Before anything is sent, whatever the command: a refused query is a rules problem (exit 2).
    await this.guard.require(rule);
    try {
      const sql = this.batchSql(rule);
      return await this.inReadOnlyTransaction(async (conn, nowMs) => {
        if (ids.length === 0) return toBatch([], rule.key, nowMs);
        const [rows, fields] = await conn.query({ sql, values: [batchValues(rule, ids)], timeout: this.clientTimeoutMs() });
        if (!Array.isArray(rows)) {
          throw new SourceQueryError(`family "${rule.name}": the query returned no result set; it must be a SELECT`, { timeout: false });
        }
        requireKeyColumn(rule, (fields ?? []).map((f) => f.name));
        return { ...toBatch(rows as Record<string, unknown>[], rule.key, nowMs), columns: mysqlColumnTypes(fields ?? []) };
      });
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /** Connection ids of this loader's own sessions, left out of activity(). */
  private readonly ownThreads = new Set<number>();

  async replicaLagMs(): Promise<number | undefined> {
    const status = await this.probe('replication lag', async (conn) => {
      const [rows] = await conn.query({ sql: 'SHOW REPLICA STATUS', timeout: this.clientTimeoutMs() }).catch(() =>
        conn.query({ sql: 'SHOW SLAVE STATUS', timeout: this.clientTimeoutMs() }),
      );
      return (rows as Record<string, unknown>[])[0];
    });
    if (status === undefined) return undefined;
    // NULL: replication is stopped or broken, so the data may be any age.
    const seconds = status['Seconds_Behind_Source'] ?? status['Seconds_Behind_Master'];
    return seconds === null || seconds === undefined ? Infinity : Number(seconds) * 1000;
  }

  async activity(): Promise<number> {
    const sql = "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID')";
    return this.probe('activity', async (conn) => {
      const [rows] = await conn.query({ sql, timeout: this.clientTimeoutMs() });
      return (rows as { id: unknown }[]).filter((r) => !this.ownThreads.has(Number(r.id))).length;
    });
  }

  writeAccess(): Promise<string | undefined> {
    this.writeAccessOnce ??= this.inReadOnlyTransaction(async (conn) => {
      const [users] = await conn.query({ sql: 'SELECT CURRENT_USER() AS u', timeout: this.clientTimeoutMs() });
      const [grants] = await conn.query({ sql: 'SHOW GRANTS', timeout: this.clientTimeoutMs() });
      const lines = (grants as Record<string, unknown>[]).map((row) => String(Object.values(row)[0]));
      return mysqlWriteAccess(lines, String((users as { u?: unknown }[])[0]?.u));
    }).catch(() => undefined);
    return this.writeAccessOnce;
  }

  /** A probe of the source itself: its failures are typed errors (errors.ts probeFailed), never a raw driver error. */
  private async probe<T>(what: string, work: (conn: MysqlConnectionLike) => Promise<T>): Promise<T> {
    try {
      return await this.inReadOnlyTransaction(work);
    } catch (error) {
      throw probeFailed(this.spec, what, classify(error), error, this.timeoutMs);
    }
  }

  async recentIds(rule: FamilyRule, withinMs: number, limit: number): Promise<string[]> {
    const { table, updatedAt } = requireRecentColumns(rule);
    // The session zone is UTC (see inReadOnlyTransaction), like the DATETIMEs the loader reads.
    const aliases = rule.key.map((_, i) => `k${i}`);
    const columns = rule.key.map((column, i) => `CAST(${quoteMysqlIdentifier(column)} AS CHAR) AS ${aliases[i] as string}`).join(', ');
    const sql =
      `SELECT ${columns} FROM ${mysqlTableName(table)} ` +
      `WHERE ${quoteMysqlIdentifier(updatedAt)} >= NOW(3) - INTERVAL ? MICROSECOND ` +
      `ORDER BY ${quoteMysqlIdentifier(updatedAt)} DESC LIMIT ?`;
    try {
      return await this.inReadOnlyTransaction(async (conn) => {
        const [rows] = await conn.query({ sql, values: [Math.round(withinMs * 1000), limit], timeout: this.clientTimeoutMs() });
        return (rows as Record<string, unknown>[]).flatMap((r) => rowId(r, aliases) ?? []);
      });
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  async check(rule: FamilyRule): Promise<ColumnTypes> {
    await this.guard.require(rule);
    let sql: string;
    try {
      const batchSql = this.batchSql(rule);
      if (rule.table === undefined) {
        const count = this.placeholderCount(batchSql);
        if (count !== 1) {
          throw new Error(
            count === 0
              ? 'the query has no ? placeholder; the batch of ids is expanded into its one ?, e.g. WHERE id IN (?)'
              : `the query has ${count} ? placeholders; exactly one (the batch of ids, e.g. IN (?)) is expected`,
          );
        }
      }
      // LIMIT 0: parsed and typed, but no row is read. A query is wrapped so that its own ORDER
      // BY/LIMIT stay valid; the newline ends a trailing `--` comment.
      sql = rule.table === undefined ? `SELECT * FROM (\n${stripTrailingSemicolons(batchSql)}\n) AS shadowcheck_check LIMIT 0` : `${batchSql} LIMIT 0`;
    } catch (error) {
      const pgStyle = rule.query !== undefined && /=\s*ANY\s*\(\s*\$1\s*\)/i.test(rule.query);
      throw new SourceCheckError(rule.name, errorMessage(error), {
        ...(pgStyle ? { hint: 'mysql queries receive the batch through one ?: write WHERE id IN (?) instead of = ANY($1)' } : {}),
        cause: error,
      });
    }
    let columns: ColumnTypes;
    try {
      // IN (NULL) matches nothing and fits every key type; IN ((NULL, NULL)) for a composite key.
      const nothing = rule.key.length === 1 ? [null] : [rule.key.map(() => null)];
      columns = await this.inReadOnlyTransaction(async (conn) => {
        const [, result] = await conn.query({ sql, values: [nothing], timeout: this.clientTimeoutMs() });
        return mysqlColumnTypes(result ?? []);
      });
    } catch (error) {
      // A composite key's ids arrive as row constructors: comparing them to one column fails.
      const tuples = rule.key.length > 1 && /Operand should contain|Illegal parameter data types .* row/i.test(errorMessage(error));
      throw checkFailed(this.spec, rule, classify(error), error, this.timeoutMs, {
        message: errorMessage(error),
        ...(tuples ? { hint: `the ids of a composite key are tuples: compare the key columns together, like WHERE (${rule.key.join(', ')}) IN (?)` } : {}),
      });
    }
    // Whether the rules' names are among them is audit/rules-check.ts's to say, with file:line.
    return columns;
  }

  /** Ends the pool once (waiting for batches in flight); later calls share that ending. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private batchSql(rule: FamilyRule): string {
    if (rule.table !== undefined) {
      const columns = rule.key.length === 1 ? quoteMysqlIdentifier(rule.key[0] as string) : `(${rule.key.map(quoteMysqlIdentifier).join(', ')})`;
      return `SELECT * FROM ${mysqlTableName(rule.table)} WHERE ${columns} IN (?)`;
    }
    if (rule.query !== undefined) return rule.query;
    throw new Error('the family has neither a query nor a table');
  }

  /** How many `?` mysql2 will substitute in `sql`: counted by mysql2's own formatter. */
  private placeholderCount(sql: string): number {
    const probes = [PLACEHOLDER_PROBE, PLACEHOLDER_PROBE + 1, PLACEHOLDER_PROBE + 2];
    const formatted = this.pool.format(sql, probes);
    return probes.filter((p) => formatted.includes(String(p))).length;
  }

  /** Backstop for a silent server; with no server-side timeout it is the timeout itself. */
  private clientTimeoutMs(): number {
    return this.mode === 'client-only' ? this.timeoutMs : this.timeoutMs + CLIENT_TIMEOUT_GRACE_MS;
  }

  /**
   * Runs `work` in `START TRANSACTION READ ONLY` after pinning the session's zone and timeouts, on
   * a connection taken through the connection cap (a server at its connection limit makes it wait,
   * not fail). A connection that failed or timed out on the client side is destroyed, never reused.
   */
  private inReadOnlyTransaction<T>(work: (conn: MysqlConnectionLike, nowMs: number) => Promise<T>): Promise<T> {
    return this.cap.run((conn) => this.transaction(conn, work));
  }

  private async transaction<T>(conn: MysqlConnectionLike, work: (conn: MysqlConnectionLike, nowMs: number) => Promise<T>): Promise<T> {
    if (typeof conn.threadId === 'number') this.ownThreads.add(conn.threadId);
    const timeout = this.clientTimeoutMs();
    let inTransaction = false;
    try {
      await conn.query({ sql: this.sessionSql, timeout });
      await conn.query({ sql: 'START TRANSACTION READ ONLY', timeout });
      inTransaction = true;
      const [rows] = await conn.query({ sql: 'SELECT FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) AS now_ms', timeout });
      const nowMs = Number(Array.isArray(rows) ? (rows[0] as { now_ms?: unknown } | undefined)?.now_ms : undefined);
      if (!Number.isFinite(nowMs)) throw new Error('the server did not return NOW()');
      const result = await work(conn, nowMs);
      await conn.query({ sql: 'COMMIT', timeout });
      conn.release();
      return result;
    } catch (error) {
      // A client-side timeout leaves the statement running on that connection: drop it.
      if (classify(error) === 'connection' || errorCode(error) === 'PROTOCOL_SEQUENCE_TIMEOUT') {
        conn.destroy();
      } else if (!inTransaction) {
        conn.release();
      } else {
        await conn.query({ sql: 'ROLLBACK', timeout }).then(
          () => conn.release(),
          () => conn.destroy(),
        );
      }
      throw error;
    }
  }

  private batchError(rule: FamilyRule, error: unknown): Error {
    return batchFailed(this.spec, rule.name, classify(error), error, this.timeoutMs, errorMessage(error));
  }

}
