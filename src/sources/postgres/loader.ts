/**
 * PostgreSQL source loader (node-postgres).
 *
 * One batch = one short read-only transaction on a pooled client:
 *   1. `BEGIN READ ONLY; SET LOCAL statement_timeout/lock_timeout; SELECT now()` (one round trip,
 *      simple protocol: the timeouts are integers we format, never user text);
 *   2. the family's query with `$1` bound to the batch's ids, or
 *      `SELECT * FROM <table> WHERE <key> = ANY($1)`;
 *   3. `COMMIT` (`ROLLBACK` after an error).
 *
 * Ids are bound as an array literal of *untyped* text (`{"1","2"}`, parameter type left to the
 * server), so PostgreSQL infers `$1` as an array of the key column's own type and casts the ids to
 * it: `bigint = ANY('{..}'::bigint[])` is an index scan, while `key::text = ANY($1::text[])` is a
 * sequential scan (measured on 300k rows: 1.2 ms vs 32 ms per 100-id batch, and the gap grows with
 * the table). The price is that an id the column type cannot hold (`user:abc` against a bigint
 * key) fails the cast for the whole batch (SQLSTATE class 22): the batch is then retried under
 * savepoints until the failing ids are isolated (isolate.ts). An id that cannot be cast to the
 * key's type is absent (no row can have it); one that the family's own query failed on gets its
 * own error verdict. Either way its batch-mates are judged.
 *
 * A family `query` is sent only once the read-only policy accepts it (read-only-query.ts).
 *
 * Only connect.ts, type-parsers.ts and introspect.ts import `pg`, and only when the descriptor
 * creates a loader: the rest of the program sees a SourceLoader, and tests can hand
 * `postgresLoaderFromPool` (connect.ts) anything shaped like PgPoolLike (pool-like.ts).
 */
import type { SourceSpec } from '../../config/types.js';
import type { ColumnTypes } from '../../core/column-type.js';
import type { FamilyRule } from '../../core/rule.js';
import { idParts, rowId } from '../../core/source-key.js';
import { ConnectionCap } from '../connection-cap.js';
import { requireSampleTable } from '../sample-ids.js';
import { batchFailed, checkFailed, errorMessage, probeFailed, SourceCheckError } from '../errors.js';
import { classifyFailure, describeQueryError, isPgConnectionLimit } from './errors.js';
import { lastResult, type PgClientLike, type PgPoolLike, type PgResultLike } from './pool-like.js';
import { pgTableName } from './identifiers.js';
import { attachChildren, groupRows, membersColumns, positiveInt, requireKeyColumn, requireRecentColumns, stripTrailingSemicolons, toBatch, toGroups } from '../rows.js';
import { childRules } from '../children.js';
import { PgColumnTypes } from './column-types.js';
import { isDataException, isolateFailingIds } from './isolate.js';
import { parseUnknownArrays } from './type-parsers.js';
import { ReadOnlyQueryGuard } from '../read-only-query.js';
import { postgresReadOnlyProblem } from './read-only-query.js';
import { POSTGRES_WRITE_ACCESS_SQL, postgresWriteAccess } from './write-access.js';
import type { LoaderOptions, SampledIds, SourceBatch, SourceLoader } from '../types.js';
import { recentPgIdsSql, samplePgIds } from './sample-ids.js';
import { batchStatement, unorderedStatement } from './batch-statement.js';
import { RANKED_CHECK_HINT } from '../many-rows-sql.js';
import { checkFamily } from '../check-family.js';

export class PostgresLoader implements SourceLoader {
  private readonly prelude: string;
  private readonly types = new PgColumnTypes();
  private readonly guard = new ReadOnlyQueryGuard(postgresReadOnlyProblem);
  private readonly restart: string;
  private closing: Promise<void> | undefined;
  private writeAccessOnce: Promise<string | undefined> | undefined;
  private readonly cap: ConnectionCap<PgClientLike>;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly spec: SourceSpec,
    private readonly timeoutMs: number,
    options: LoaderOptions,
  ) {
    this.cap = new ConnectionCap({
      source: spec.name,
      maxConnections: positiveInt(options.maxConnections, 1),
      acquire: () => this.pool.connect(),
      isLimitRefusal: isPgConnectionLimit,
      openConnections: () => this.pool.totalCount,
      // As long as the pool waits to connect (connectionTimeoutMillis).
      patienceMs: Math.max(10_000, timeoutMs),
      log: options.log,
    });
    // Integers we computed, never user text; SET cannot take bind parameters.
    const limits = `SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL lock_timeout = ${timeoutMs}`;
    // now() is the transaction's start, taken before the batch's snapshot: the database clock at
    // the moment the batch was read. floor(), so nowMs is a whole millisecond like Date.now().
    this.prelude = `BEGIN READ ONLY; ${limits}; SELECT floor(extract(epoch from now()) * 1000)::int8::text AS now_ms`;
    this.restart = `ROLLBACK; BEGIN READ ONLY; ${limits}`;
  }

  async load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch> {
    // Before anything is sent, whatever the command: a refused query is a rules problem (exit 2).
    await this.guard.require(rule);
    for (const child of childRules(rule)) await this.guard.require(child.rule, ['children', child.name, 'query']);
    // The child whose query is running, so that its failure names it.
    let running: FamilyRule = rule;
    try {
      // Built before a connection is taken: a malformed table name fails here.
      const { sql, values } = batchStatement(rule, ids);
      return await this.inReadOnlyTransaction(async (client, nowMs) => {
        if (ids.length === 0) return toBatch([], rule.key, nowMs);
        let result: PgResultLike;
        try {
          result = lastResult(await client.query(sql, values));
        } catch (error) {
          // One id the key's type cannot hold must not fail its batch-mates (isolate.ts).
          if (!isDataException(error)) throw error;
          await client.query(this.restart);
          const isolated = await isolateFailingIds({
            client,
            ids,
            statement: (part) => batchStatement(rule, part),
            query: rule.table === undefined ? rule.query : undefined,
            split: (id) => idParts(id, rule.key.length),
            describe: describeQueryError,
          });
          const failed = isolated.failed.size === 0 ? {} : { failedIds: isolated.failed };
          if (isolated.result === undefined) return { ...toBatch([], rule.key, nowMs), ...failed };
          const batch = await this.batchOf(client, rule, isolated.result, nowMs);
          return { ...(await this.withChildren(client, rule, batch, (child) => (running = child))), ...failed };
        }
        const batch = await this.batchOf(client, rule, result, nowMs);
        return await this.withChildren(client, rule, batch, (child) => (running = child));
      });
    } catch (error) {
      throw this.batchError(running, error);
    }
  }

  /** One result as a batch: a row per id, or (`rows: many`) each id's rows under `members`. */
  private async batchOf(client: PgClientLike, rule: FamilyRule, result: PgResultLike, nowMs: number): Promise<SourceBatch> {
    requireKeyColumn(rule, result.fields.map((f) => f.name));
    const columns = await this.columnTypes(client, result);
    parseUnknownArrays(result.rows, columns, this.spec.timezone);
    if (rule.many !== undefined) return { ...toGroups(result.rows, rule.key, nowMs), columns: membersColumns(columns) };
    return { ...toBatch(result.rows, rule.key, nowMs), columns };
  }

  /**
   * `children:`: one query per child, in the batch's transaction (the same snapshot), for the ids
   * that have a parent row; each parent row gets the child's rows (`[]` when none).
   */
  private async withChildren(client: PgClientLike, rule: FamilyRule, parent: SourceBatch, running: (child: FamilyRule) => void): Promise<SourceBatch> {
    let batch = parent;
    const ids = [...parent.rows.keys()];
    if (ids.length === 0) return batch;
    for (const child of childRules(rule)) {
      running(child.rule);
      const { sql, values } = batchStatement(child.rule, ids);
      const result = lastResult(await client.query(sql, values));
      requireKeyColumn(child.rule, result.fields.map((f) => f.name));
      const columns = await this.columnTypes(client, result);
      parseUnknownArrays(result.rows, columns, this.spec.timezone);
      batch = attachChildren(batch, child.name, groupRows(result.rows, child.rule.key), columns);
    }
    running(rule);
    return batch;
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
    const { sql, values } = batchStatement(rule, []);
    try {
      await this.inReadOnlyTransaction(async (client) => client.query(`SELECT * FROM (\n${sql}\n) AS shadowcheck_check LIMIT 0`, values));
    } catch (error) {
      throw checkFailed(this.spec, rule, classifyFailure(error), error, this.timeoutMs, { message: describeQueryError(error), hint: RANKED_CHECK_HINT });
    }
  }

  /**
   * `wholeTable`: a child's table is described without its WHERE, so that a child `key` that is not
   * a column is a rules error naming the columns (collection-columns.ts), not the server's message.
   */
  private async checkColumns(rule: FamilyRule, wholeTable = false): Promise<ColumnTypes> {
    await this.guard.require(rule);
    let sql: string;
    let values: unknown[];
    try {
      const batch = unorderedStatement(rule, []);
      values = batch.values;
      // LIMIT 0: parsed, planned and typed, but no row is read. A query is wrapped so that its
      // own ORDER BY/LIMIT stay valid; the newline ends a trailing `--` comment.
      sql = rule.table === undefined ? `SELECT * FROM (\n${stripTrailingSemicolons(batch.sql)}\n) AS shadowcheck_check LIMIT 0` : `${batch.sql} LIMIT 0`;
      if (wholeTable && rule.table !== undefined) {
        sql = `SELECT * FROM ${pgTableName(rule.table)} LIMIT 0`;
        values = [];
      }
    } catch (error) {
      throw new SourceCheckError(rule.name, errorMessage(error), { cause: error });
    }
    let columns: ColumnTypes;
    try {
      columns = await this.inReadOnlyTransaction(async (client) => this.columnTypes(client, lastResult(await client.query(sql, values))));
    } catch (error) {
      const mysqlStyle = rule.query !== undefined && /\bIN\s*\(\s*\?\s*\)/i.test(rule.query);
      const untypedArrays = rule.key.length > 1 && /unnest\(unknown/.test(errorMessage(error));
      const hint = mysqlStyle
        ? 'postgres queries receive the batch as $1: write WHERE id = ANY($1) instead of IN (?)'
        : untypedArrays
          ? "cast each key column's array to the column's type, like WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::int[]))"
          : undefined;
      throw checkFailed(this.spec, rule, classifyFailure(error), error, this.timeoutMs, {
        message: describeQueryError(error),
        ...(hint === undefined ? {} : { hint }),
      });
    }
    // Whether the rules' names are among them is audit/rules-check.ts's to say, with file:line.
    return columns;
  }

  /** The result's column types, looking up in pg_type (once per OID) the types pg does not know. */
  private columnTypes(client: PgClientLike, result: PgResultLike): Promise<ColumnTypes> {
    const fields = result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID ?? 0 }));
    return this.types.of(fields, async (sql, values) => lastResult(await client.query(sql, values)).rows);
  }

  /** Ends the pool once (waiting for batches in flight); later calls share that ending. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  async replicaLagMs(): Promise<number | undefined> {
    // A replica that has replayed all it received is current, however old its last transaction is.
    const sql =
      'SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL ' +
      'WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 ' +
      "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000, 'Infinity'::float8) END AS lag_ms";
    const value = await this.probe('replication lag', async (client) => lastResult(await client.query(sql)).rows[0]?.['lag_ms']);
    return value === null || value === undefined ? undefined : Math.max(0, Number(value));
  }

  async activity(): Promise<number> {
    // The audit's own sessions carry application_name 'shadowcheck' (set on the pool).
    const sql = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND application_name <> 'shadowcheck'";
    return this.probe('activity', async (client) => Number(lastResult(await client.query(sql)).rows[0]?.['n'] ?? 0));
  }

  writeAccess(): Promise<string | undefined> {
    this.writeAccessOnce ??= this.inReadOnlyTransaction(async (client) => postgresWriteAccess(lastResult(await client.query(POSTGRES_WRITE_ACCESS_SQL)).rows[0])).catch(() => undefined);
    return this.writeAccessOnce;
  }

  /** A probe of the source itself: its failures are typed errors (errors.ts probeFailed), never a raw driver error. */
  private async probe<T>(what: string, work: (client: PgClientLike) => Promise<T>): Promise<T> {
    try {
      return await this.inReadOnlyTransaction(work);
    } catch (error) {
      throw probeFailed(this.spec, what, classifyFailure(error), error, this.timeoutMs);
    }
  }

  async recentIds(rule: FamilyRule, withinMs: number, limit: number): Promise<string[]> {
    const { sql, aliases } = recentPgIdsSql(rule, requireRecentColumns(rule));
    try {
      return await this.inReadOnlyTransaction(async (client) =>
        lastResult(await client.query(sql, [withinMs, limit])).rows.flatMap((r) => rowId(r, aliases) ?? []),
      );
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /** --sampling source: random rows of the family's table (sample-ids.ts). */
  async sampleIds(rule: FamilyRule, count: number, seed: number): Promise<SampledIds> {
    requireSampleTable(rule);
    try {
      return await this.inReadOnlyTransaction((client) => samplePgIds(client, rule, count, seed));
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /**
   * Runs `work` in `BEGIN READ ONLY` with the statement and lock timeouts, on a client of its own
   * (taken through the connection cap: a server at its connection limit makes it wait, not fail).
   * A client whose connection failed is destroyed, never returned to the pool.
   */
  private inReadOnlyTransaction<T>(work: (client: PgClientLike, nowMs: number) => Promise<T>): Promise<T> {
    return this.cap.run((client) => this.transaction(client, work));
  }

  private async transaction<T>(client: PgClientLike, work: (client: PgClientLike, nowMs: number) => Promise<T>): Promise<T> {
    // A checked-out client reports a dying connection as an 'error' event, which must be handled
    // (unhandled, it ends the process); the failing query rejects on its own.
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken ??= error;
    };
    client.on('error', onError);
    let destroy = false;
    try {
      const nowMs = Number((lastResult(await client.query(this.prelude)).rows[0] ?? {})['now_ms']);
      if (!Number.isFinite(nowMs)) throw new Error('the server did not return now()');
      const result = await work(client, nowMs);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // After pg's client-side read timeout the statement is still running on that connection.
      destroy = broken !== undefined || classifyFailure(error) === 'connection' || errorMessage(error) === 'Query read timeout';
      if (!destroy) {
        // A statement error leaves the transaction aborted; end it before reusing the client.
        await client.query('ROLLBACK').catch(() => {
          destroy = true;
        });
      }
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(destroy ? (broken ?? true) : undefined);
    }
  }

  private batchError(rule: FamilyRule, error: unknown): Error {
    return batchFailed(this.spec, rule.name, classifyFailure(error), error, this.timeoutMs, describeQueryError(error));
  }
}

