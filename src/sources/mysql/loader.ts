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
 * parsed losslessly (type-cast.ts). Each batch carries its columns' types (column-types.ts).
 *
 * Ids are escaped by mysql2 on the client (`query`, not `execute`: only `query` expands an array
 * into a list). Its escaping relies on backslashes, so a session with NO_BACKSLASH_ESCAPES would
 * let a crafted key name break out of its string: the loader removes that mode from its sessions.
 */
import type { SourceSpec } from '../../config/types.js';
import type { ColumnTypes } from '../../core/column-type.js';
import type { FamilyRule } from '../../core/rule.js';
import { idParts, rowId } from '../../core/source-key.js';
import { ConnectionCap } from '../connection-cap.js';
import { batchFailed, checkFailed, errorCode, errorMessage, probeFailed } from '../errors.js';
import { ReadOnlyQueryGuard } from '../read-only-query.js';
import { requireSampleTable } from '../sample-ids.js';
import { mysqlReadOnlyProblem } from './read-only-query.js';
import { attachChildren, groupRows, membersColumns, requireKeyColumn, requireRecentColumns, positiveInt, toBatch, toGroups } from '../rows.js';
import { childRules } from '../children.js';
import { SourceQueryError, type LoaderOptions, type SampledIds, type SourceBatch, type SourceLoader } from '../types.js';
import { mysqlColumnTypes } from './column-types.js';
import { classifyFailure, isMysqlConnectionLimit } from './errors.js';

import { CLIENT_TIMEOUT_GRACE_MS, mysqlPoolSize, withQueryTimeout, type MysqlConnectionLike, type MysqlPoolLike } from './pool-like.js';
import { timeoutSetting, type TimeoutMode } from './session.js';
import { mysqlWriteAccess } from './write-access.js';
import { recentMysqlIdsSql, sampleMysqlIds } from './sample-ids.js';
import { batchSql, checkStatement } from './batch-sql.js';
import { RANKED_CHECK_HINT } from '../many-rows-sql.js';
import { checkFamily } from '../check-family.js';

/**
 * What the query's one `?` expands to: the ids (`IN ('1', '2')`), or for a composite key one
 * nested list per id, which mysql2 writes as row constructors (`IN (('acme', '1'), ('acme', '2'))`).
 */
function batchValues(rule: FamilyRule, ids: readonly string[]): unknown[] {
  return rule.key.length === 1 ? [...ids] : ids.map((id) => idParts(id, rule.key.length));
}

/** A value never found in a query, so that its presence after `format` marks a placeholder. */
const PLACEHOLDER_PROBE = 7_391_846_250_183_627;

export class MysqlLoader implements SourceLoader {
  private readonly sessionSql: string;
  private readonly guard = new ReadOnlyQueryGuard(mysqlReadOnlyProblem);
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
    const children = childRules(rule);
    for (const child of children) await this.guard.require(child.rule, ['children', child.name, 'query']);
    // The family or child whose query is running, so that its failure names it.
    let running: FamilyRule = rule;
    try {
      return await this.inReadOnlyTransaction(async (conn, nowMs) => {
        if (ids.length === 0) return toBatch([], rule.key, nowMs);
        const { rows, columns } = await this.select(conn, rule, ids);
        let batch: SourceBatch =
          rule.many === undefined ? { ...toBatch(rows, rule.key, nowMs), columns } : { ...toGroups(rows, rule.key, nowMs), columns: membersColumns(columns) };
        // `children:`: in the same transaction, for the ids that have a parent row ([] when a parent has none).
        const parents = [...batch.rows.keys()];
        for (const child of parents.length === 0 ? [] : children) {
          running = child.rule;
          const result = await this.select(conn, child.rule, parents);
          batch = attachChildren(batch, child.name, groupRows(result.rows, child.rule.key), result.columns);
        }
        return batch;
      });
    } catch (error) {
      throw this.batchError(running, error);
    }
  }

  /** One batch statement's rows and column types; fails when it returns no key column. */
  private async select(conn: MysqlConnectionLike, rule: FamilyRule, ids: readonly string[]): Promise<{ rows: Record<string, unknown>[]; columns: ColumnTypes }> {
    const [rows, fields] = await conn.query({ sql: batchSql(rule), values: [batchValues(rule, ids)], timeout: this.clientTimeoutMs() });
    if (!Array.isArray(rows)) {
      throw new SourceQueryError(`family "${rule.name}": the query returned no result set; it must be a SELECT`, { timeout: false });
    }
    requireKeyColumn(rule, (fields ?? []).map((f) => f.name));
    return { rows: rows as Record<string, unknown>[], columns: mysqlColumnTypes(fields ?? []) };
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
      throw probeFailed(this.spec, what, classifyFailure(error), error, this.timeoutMs);
    }
  }

  async recentIds(rule: FamilyRule, withinMs: number, limit: number): Promise<string[]> {
    // The session zone is UTC (see inReadOnlyTransaction), like the DATETIMEs the loader reads.
    const { sql, aliases } = recentMysqlIdsSql(rule, requireRecentColumns(rule));
    try {
      return await this.inReadOnlyTransaction(async (conn) => {
        const [rows] = await conn.query({ sql, values: [Math.round(withinMs * 1000), limit], timeout: this.clientTimeoutMs() });
        return (rows as Record<string, unknown>[]).flatMap((r) => rowId(r, aliases) ?? []);
      });
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /** --sampling source: random rows of the family's table (sample-ids.ts). */
  async sampleIds(rule: FamilyRule, count: number, seed: number): Promise<SampledIds> {
    requireSampleTable(rule);
    try {
      return await this.inReadOnlyTransaction((conn) =>
        sampleMysqlIds(async (sql, values) => (await conn.query({ sql, values: values ?? [], timeout: this.clientTimeoutMs() }))[0] as Record<string, unknown>[], rule, count, seed),
      );
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /** The family's result columns (LIMIT 0), shaped as its batches are (check-family.ts). */
  check(rule: FamilyRule): Promise<ColumnTypes> {
    return checkFamily(rule, {
      guard: this.guard,
      columns: (checked, wholeTable) => this.checkColumns(checked, wholeTable),
      ranked: (checked) => this.checkRanked(checked),
    });
  }

  /** The ranked statement of a `rows: many` family or child, LIMIT 0 (many-rows-sql.ts rankedCheckApplies). */
  private async checkRanked(rule: FamilyRule): Promise<void> {
    const nothing = rule.key.length === 1 ? [null] : [rule.key.map(() => null)];
    const sql = `SELECT * FROM (\n${batchSql(rule)}\n) AS shadowcheck_check LIMIT 0`;
    try {
      await this.inReadOnlyTransaction(async (conn) => conn.query({ sql, values: [nothing], timeout: this.clientTimeoutMs() }));
    } catch (error) {
      throw checkFailed(this.spec, rule, classifyFailure(error), error, this.timeoutMs, { message: errorMessage(error), hint: RANKED_CHECK_HINT });
    }
  }

  /**
   * `wholeTable`: a child's table is described without its WHERE, so that a child `key` that is not
   * a column is a rules error naming the columns (collection-columns.ts), not the server's message.
   */
  private async checkColumns(rule: FamilyRule, wholeTable = false): Promise<ColumnTypes> {
    await this.guard.require(rule);
    const sql = checkStatement(rule, (text) => this.placeholderCount(text), wholeTable);
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
      throw checkFailed(this.spec, rule, classifyFailure(error), error, this.timeoutMs, {
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
      if (classifyFailure(error) === 'connection' || errorCode(error) === 'PROTOCOL_SEQUENCE_TIMEOUT') {
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
    return batchFailed(this.spec, rule.name, classifyFailure(error), error, this.timeoutMs, errorMessage(error));
  }
}

