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
 * savepoints until the failing ids are isolated (pg-isolate.ts). An id that cannot be cast to the
 * key's type is absent (no row can have it); one that the family's own query failed on gets its
 * own error verdict. Either way its batch-mates are judged.
 *
 * A family `query` is sent only once the read-only policy accepts it (read-only-query.ts).
 *
 * Nothing outside this file and pg-type-parsers.ts imports `pg`: the rest of the program sees a SourceLoader, and tests
 * can hand `postgresLoaderFromPool` anything shaped like PgPoolLike.
 */
import pg from 'pg';
import type { SourceSpec } from '../../config/types.js';
import type { ColumnTypes } from '../../core/column-type.js';
import type { FamilyRule } from '../../core/rule.js';
import { idParts, rowId } from '../../core/source-key.js';
import { ConnectionCap } from '../connection-cap.js';
import { batchFailed, cannotConnect, checkFailed, errorCode, errorMessage, NETWORK_ERROR_CODES, probeFailed, requireUrl, SourceCheckError } from '../errors.js';
import { pgTableName, quotePgIdentifier } from './identifiers.js';
import { positiveInt, requireKeyColumn, requireRecentColumns, stripTrailingSemicolons, toBatch } from '../rows.js';
import { PgColumnTypes } from './column-types.js';
import { isDataException, isolateFailingIds } from './isolate.js';
import { parseUnknownArrays, pgTypeParsers } from './type-parsers.js';
import { ReadOnlyQueryGuard } from '../read-only-query.js';
import { POSTGRES_WRITE_ACCESS_SQL, postgresWriteAccess } from './write-access.js';
import { preferTls, withTlsHint } from '../tls.js';
import { postgresTls, type PostgresTls } from './tls.js';
import { type LoaderOptions, type SourceBatch, type SourceLoader, type SourceLoaderFactory } from '../types.js';

/** The part of a pg result the loader reads. */
export interface PgResultLike {
  rows: Record<string, unknown>[];
  /** `dataTypeID`: the column's type OID (pg_type.oid), resolved by pg-column-types.ts. */
  fields: readonly { name: string; dataTypeID?: number }[];
}

/** The part of a pooled pg client the loader uses. A multi-statement text query yields an array. */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<PgResultLike | PgResultLike[]>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  /** Returns the client to the pool; with an error (or `true`) the client is destroyed instead. */
  release(destroy?: Error | boolean): void;
}

/** The part of a pg Pool the loader uses (structural, like kysely's PostgresPool). */
export interface PgPoolLike {
  connect(): Promise<PgClientLike>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  end(): Promise<void>;
  /** Clients open or being opened (pg's Pool has it; a client that failed to connect is left out). */
  readonly totalCount?: number;
}


/** Time past the statement timeout after which the client gives up on a silent server. */
const CLIENT_TIMEOUT_GRACE_MS = 5000;

/**
 * Opens a pool on the source's URL, verifies it with `SELECT 1`, and returns a ready loader. TLS
 * comes from the URL's sslmode/sslrootcert/sslcert/sslkey with libpq's meaning (src/sources/tls.ts);
 * with sslmode prefer or allow, a server without TLS is connected to again in plaintext.
 */
export const createPostgresLoader: SourceLoaderFactory = async (spec, options) => {
  const tls = postgresTls(requireUrl(spec), { source: spec.name, insecure: options.tlsInsecure === true });
  const open = (ssl: PostgresTls['ssl']) => openPostgresLoader(spec, options, tls, ssl);
  const connecting = tls.plaintextFallback ? preferTls(() => open(tls.ssl), () => open(false)) : open(tls.ssl);
  return connecting.catch((error: unknown) => {
    throw withTlsHint(error, 'postgres');
  });
};

/**
 * The URL's own `options` (say `-c search_path=app`) would replace the pool's, since pg lets the
 * connection string win: take them out of the URL and put ours after them, so both apply and ours
 * win where they name the same setting.
 */
export function withSessionOptions(connectionString: string, ours: string): { connectionString: string; options: string } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, options: ours };
  }
  const theirs = url.searchParams.get('options');
  if (theirs === null) return { connectionString, options: ours };
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: `${theirs} ${ours}` };
}

function openPostgresLoader(spec: SourceSpec, options: LoaderOptions, tls: PostgresTls, ssl: PostgresTls['ssl']): Promise<SourceLoader> {
  const timeoutMs = positiveInt(options.timeoutMs, 5000);
  // Defence in depth: every transaction of these sessions defaults to read-only and is
  // time-bounded from the first statement. Batches still run in BEGIN READ ONLY, which a query
  // cannot undo (a session default can be changed by set_config from within a SELECT).
  const session = withSessionOptions(tls.connectionString, `-c default_transaction_read_only=on -c statement_timeout=${timeoutMs} -c lock_timeout=${timeoutMs}`);
  const pool = new pg.Pool({
    connectionString: session.connectionString,
    ...(ssl === undefined ? {} : { ssl }),
    ...(tls.sslnegotiation === undefined ? {} : { sslnegotiation: tls.sslnegotiation }),
    max: positiveInt(options.maxConnections, 1),
    types: pgTypeParsers(spec.timezone),
    // The URL's own application_name, if any, wins (the connection string overrides config).
    application_name: 'shadowcheck',
    connectionTimeoutMillis: Math.max(10_000, timeoutMs),
    // A client-side backstop for a server that stops answering; statement_timeout fires first.
    query_timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    options: session.options,
    keepAlive: true,
    allowExitOnIdle: true,
  });
  return postgresLoaderFromPool(pool, spec, options);
}

/** A ready loader over an existing pool. Verifies the connection; ends the pool if that fails. */
export async function postgresLoaderFromPool(pool: PgPoolLike, spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  // An idle pooled client whose connection dies emits 'error' on the pool; unhandled, it would
  // crash the process. The pool has already discarded that client, the next batch opens another.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT 1');
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw cannotConnect(spec, error);
  }
  return new PostgresLoader(pool, spec, positiveInt(options.timeoutMs, 5000), options);
}

/**
 * The server refused a new connection for a connection limit: SQLSTATE 53300 too_many_connections
 * is max_connections ("sorry, too many clients already"), the slots reserved for superusers, a
 * role's or a database's CONNECTION LIMIT. The loader then runs fewer batches at once (connection-cap.ts).
 */
export function isPgConnectionLimit(error: unknown): boolean {
  return errorCode(error) === '53300';
}

/** What went wrong with a statement, decided from the driver's error. */
type Failure = 'connection' | 'timeout' | 'query';

/**
 * Connection-level: socket errors, SQLSTATE class 08 (connection exception; but a `bind message`
 * 08P01 is a statement error: wrong parameter count), 57P01-03 (admin/crash shutdown, cannot
 * connect now), 53300 (too many connections, once the connection cap gave up waiting), class 28
 * (authentication), and pg's own errors for a client or pool that is closed. Timeout: 57014
 * (statement timeout or cancel), 55P03 (lock timeout), pg's client-side read timeout and the
 * pool's wait for a free client.
 */
function classify(error: unknown): Failure {
  const code = errorCode(error);
  const message = errorMessage(error);
  if (code !== undefined) {
    if (NETWORK_ERROR_CODES.has(code)) return 'connection';
    if (code === '57014' || code === '55P03') return 'timeout';
    if (code === '08P01' && message.startsWith('bind message')) return 'query';
    if (code.startsWith('08') || code.startsWith('28') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') {
      return 'connection';
    }
    if (/^[0-9A-Z]{5}$/.test(code)) return 'query';
  }
  if (message === 'Query read timeout' || message === 'timeout exceeded when trying to connect') return 'timeout';
  if (/^Connection terminated|not queryable|Cannot use a pool after calling end/.test(message)) return 'connection';
  return 'query';
}

/** A server error with its detail and hint, as one line. */
function describeQueryError(error: unknown): string {
  const message = errorMessage(error);
  const bind = /^bind message supplies \d+ parameters?, but prepared statement "[^"]*" requires (\d+)/.exec(message);
  if (bind !== null) {
    return bind[1] === '0'
      ? 'the query does not use $1; the batch of ids is bound to $1, e.g. WHERE id = ANY($1)'
      : `the query uses $1 to $${bind[1]}; only $1 (the batch of ids) is bound`;
  }
  const fields = typeof error === 'object' && error !== null ? (error as { detail?: unknown; hint?: unknown }) : {};
  const { detail, hint } = fields;
  let out = message;
  if (typeof detail === 'string' && detail !== '') out += ` (${detail})`;
  if (typeof hint === 'string' && hint !== '') out += `; ${hint}`;
  return out;
}

function lastResult(result: PgResultLike | PgResultLike[]): PgResultLike {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  if (last === undefined) throw new Error('the server returned no result');
  return last;
}

class PostgresLoader implements SourceLoader {
  private readonly prelude: string;
  private readonly types = new PgColumnTypes();
  private readonly guard = new ReadOnlyQueryGuard('postgres');
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
    try {
      // Built before a connection is taken: a malformed table name fails here.
      const { sql, values } = this.batchStatement(rule, ids);
      return await this.inReadOnlyTransaction(async (client, nowMs) => {
        if (ids.length === 0) return toBatch([], rule.key, nowMs);
        let result: PgResultLike;
        try {
          result = lastResult(await client.query(sql, values));
        } catch (error) {
          // One id the key's type cannot hold must not fail its batch-mates (pg-isolate.ts).
          if (!isDataException(error)) throw error;
          await client.query(this.restart);
          const isolated = await isolateFailingIds({
            client,
            ids,
            statement: (part) => this.batchStatement(rule, part),
            query: rule.table === undefined ? rule.query : undefined,
            split: (id) => idParts(id, rule.key.length),
            describe: describeQueryError,
          });
          const failed = isolated.failed.size === 0 ? {} : { failedIds: isolated.failed };
          if (isolated.result === undefined) return { ...toBatch([], rule.key, nowMs), ...failed };
          requireKeyColumn(rule, isolated.result.fields.map((f) => f.name));
          const columns = await this.columnTypes(client, isolated.result);
          parseUnknownArrays(isolated.result.rows, columns, this.spec.timezone);
          return { ...toBatch(isolated.result.rows, rule.key, nowMs), columns, ...failed };
        }
        requireKeyColumn(rule, result.fields.map((f) => f.name));
        const columns = await this.columnTypes(client, result);
        parseUnknownArrays(result.rows, columns, this.spec.timezone);
        return { ...toBatch(result.rows, rule.key, nowMs), columns };
      });
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  async check(rule: FamilyRule): Promise<ColumnTypes> {
    await this.guard.require(rule);
    let sql: string;
    let values: unknown[];
    try {
      const batch = this.batchStatement(rule, []);
      values = batch.values;
      // LIMIT 0: parsed, planned and typed, but no row is read. A query is wrapped so that its
      // own ORDER BY/LIMIT stay valid; the newline ends a trailing `--` comment.
      sql = rule.table === undefined ? `SELECT * FROM (\n${stripTrailingSemicolons(batch.sql)}\n) AS shadowcheck_check LIMIT 0` : `${batch.sql} LIMIT 0`;
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
      throw checkFailed(this.spec, rule, classify(error), error, this.timeoutMs, {
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
      throw probeFailed(this.spec, what, classify(error), error, this.timeoutMs);
    }
  }

  async recentIds(rule: FamilyRule, withinMs: number, limit: number): Promise<string[]> {
    const { table, updatedAt } = requireRecentColumns(rule);
    const aliases = rule.key.map((_, i) => `k${i}`);
    const columns = rule.key.map((column, i) => `${quotePgIdentifier(column)}::text AS ${aliases[i] as string}`).join(', ');
    const sql =
      `SELECT ${columns} FROM ${pgTableName(table)} ` +
      `WHERE ${quotePgIdentifier(updatedAt)} >= now() - make_interval(secs => $1::float8 / 1000) ` +
      `ORDER BY ${quotePgIdentifier(updatedAt)} DESC LIMIT $2`;
    try {
      return await this.inReadOnlyTransaction(async (client) =>
        lastResult(await client.query(sql, [withinMs, limit])).rows.flatMap((r) => rowId(r, aliases) ?? []),
      );
    } catch (error) {
      throw this.batchError(rule, error);
    }
  }

  /**
   * The family's own query with its parameters, or the batched SELECT over its table. One key
   * column: `$1` is the array of ids. Several: a query gets one array per column (`$1`, `$2`, ...,
   * parallel, in placeholder order, for `unnest`); the table form compares row constructors,
   * `(a, b) IN (($1, $2), ...)`, so each parameter takes its column's type and the index is used.
   * Throws on a malformed table name.
   */
  private batchStatement(rule: FamilyRule, ids: readonly string[]): { sql: string; values: unknown[] } {
    const arity = rule.key.length;
    if (rule.table !== undefined) {
      const table = pgTableName(rule.table);
      if (arity === 1) return { sql: `SELECT * FROM ${table} WHERE ${quotePgIdentifier(rule.key[0] as string)} = ANY($1)`, values: [[...ids]] };
      const columns = `(${rule.key.map(quotePgIdentifier).join(', ')})`;
      if (ids.length === 0) return { sql: `SELECT * FROM ${table} WHERE ${columns} = (${rule.key.map(() => 'NULL').join(', ')})`, values: [] };
      const tuples = ids.map((_, i) => `(${rule.key.map((__, j) => `$${i * arity + j + 1}`).join(', ')})`);
      return { sql: `SELECT * FROM ${table} WHERE ${columns} IN (${tuples.join(', ')})`, values: ids.flatMap((id) => idParts(id, arity)) };
    }
    if (rule.query === undefined) throw new Error('the family has neither a query nor a table');
    if (arity === 1) return { sql: rule.query, values: [[...ids]] };
    const parts = ids.map((id) => idParts(id, arity));
    return { sql: rule.query, values: rule.key.map((_, j) => parts.map((p) => p[j])) };
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
      destroy = broken !== undefined || classify(error) === 'connection' || errorMessage(error) === 'Query read timeout';
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
    return batchFailed(this.spec, rule.name, classify(error), error, this.timeoutMs, describeQueryError(error));
  }

}
