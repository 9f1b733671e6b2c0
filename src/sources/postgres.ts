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
 * key) fails the cast for the whole batch (SQLSTATE class 22). For the `table` form the SQL is
 * ours, so such an error can only come from an id: the batch is retried under savepoints, halving
 * it until the offending ids are isolated, and those are reported absent (no row can have them).
 * For a `query` the error could come from the user's own SQL, so it fails the batch.
 *
 * Nothing outside this file imports `pg`: the rest of the program sees a SourceLoader, and tests
 * can hand `postgresLoaderFromPool` anything shaped like PgPoolLike.
 */
import { Buffer } from 'node:buffer';
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import type { SourceSpec } from '../config/types.js';
import type { ColumnType, ColumnTypes } from '../core/column-type.js';
import { exactNumber } from '../core/decimal.js';
import { preciseDateOf } from '../core/instant.js';
import { parseSourceJson } from '../core/json-text.js';
import type { FamilyRule } from '../core/rule.js';
import { idParts, rowId } from '../core/source-key.js';
import { batchFailed, cannotConnect, checkFailed, errorCode, errorMessage, NETWORK_ERROR_CODES, requireUrl, SourceCheckError } from './errors.js';
import { pgTableName, quotePgIdentifier } from './identifiers.js';
import { positiveInt, requireKeyColumn, requireRecentColumns, stripTrailingSemicolons, toBatch } from './rows.js';
import { PgColumnTypes } from './pg-column-types.js';
import { postgresTls, preferTls, withTlsHint, type PostgresTls } from './tls.js';
import { type LoaderOptions, type SourceBatch, type SourceLoader, type SourceLoaderFactory } from './types.js';

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
}

// Type OIDs (pg_type.oid) whose default parsing we change.
const DATE_OID = 1082;
const DATE_ARRAY_OID = 1182;
const TIMESTAMP_OID = 1114;
const TIMESTAMP_ARRAY_OID = 1115;
const TIMESTAMPTZ_OID = 1184;
const TIMESTAMPTZ_ARRAY_OID = 1185;
const TEXT_ARRAY_OID = 1009;
const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const NUMERIC_OID = 1700;
const NUMERIC_ARRAY_OID = 1231;
const JSON_OID = 114;
const JSON_ARRAY_OID = 199;
const JSONB_OID = 3802;
const JSONB_ARRAY_OID = 3807;

/**
 * Per-pool type parsers (never the process-wide `pg.types`, which other code may share):
 * - `timestamp` and `timestamptz` become PreciseDates keeping their microseconds (a Date alone
 *   would drop them, and a cache written by Python or Go keeps them). `timestamp without time
 *   zone` is wall-clock time in the source's `timezone` (UTC by default), never the host's zone.
 * - `date` stays the `YYYY-MM-DD` text (pg's default is local midnight, host-dependent again).
 * - int8 and numeric keep their exact text, as LosslessNumbers so they compare as numbers
 *   (a hash field '10.5' equals numeric '10.50').
 * - json/jsonb are parsed as the cache side is, keeping numbers past 2^53 exact.
 * - everything else keeps pg's defaults: bool as boolean, float as number. Types pg does not know
 *   (arrays of enums or domains) arrive as text and are parsed after the batch by their resolved
 *   column type (parseUnknownArrays).
 */
function pgTypeParsers(zone: string | undefined, base: CustomTypesConfig = pg.types): CustomTypesConfig {
  // pg-types' TypeId enum lists scalar types only; any OID is accepted at run time.
  const baseParser = base.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;
  const parseTextArray = baseParser(TEXT_ARRAY_OID, 'text') as (text: string) => (string | null)[] | null;
  const parseTimestamptz = baseParser(TIMESTAMPTZ_OID, 'text') as (text: string) => unknown;
  // infinity and BC dates are outside what the instant parser reads: pg's own parser keeps them
  // (a zone-less one as UTC).
  const parseTimestamp = (text: string) => preciseDateOf(text, zone ?? 'UTC') ?? parseTimestamptz(asUtc(text));
  const parsers = new Map<number, (text: string) => unknown>([
    [TIMESTAMP_OID, parseTimestamp],
    [TIMESTAMPTZ_OID, (text: string) => preciseDateOf(text) ?? parseTimestamptz(text)],
    [INT8_OID, exactNumber],
    [NUMERIC_OID, exactNumber],
    [JSON_OID, parseSourceJson],
    [JSONB_OID, parseSourceJson],
    [DATE_OID, (text: string) => text],
  ]);
  const arrays = new Map<number, number>([
    [TIMESTAMP_ARRAY_OID, TIMESTAMP_OID],
    [TIMESTAMPTZ_ARRAY_OID, TIMESTAMPTZ_OID],
    [DATE_ARRAY_OID, DATE_OID],
    [INT8_ARRAY_OID, INT8_OID],
    [NUMERIC_ARRAY_OID, NUMERIC_OID],
    [JSON_ARRAY_OID, JSON_OID],
    [JSONB_ARRAY_OID, JSONB_OID],
  ]);
  const getTypeParser = (oid: number, format?: 'text' | 'binary'): unknown => {
    if (format === undefined || format === 'text') {
      const scalar = parsers.get(oid);
      if (scalar !== undefined) return scalar;
      const element = parsers.get(arrays.get(oid) ?? -1);
      if (element !== undefined) return (text: string) => mapArray(parseTextArray(text), element);
    }
    return baseParser(oid, format);
  };
  return { getTypeParser: getTypeParser as CustomTypesConfig['getTypeParser'] };
}

type NestedText = string | null | NestedText[];

/** Maps the elements of a (possibly multi-dimensional) parsed array literal. */
function mapArray(items: NestedText[] | null, parse: (text: string) => unknown): unknown {
  if (items === null) return null;
  return items.map((item) => (item === null ? null : Array.isArray(item) ? mapArray(item, parse) : parse(item)));
}

/** How an array element's text is read, by the element's resolved type. */
function elementParser(type: ColumnType | undefined, zone: string | undefined): (text: string) => unknown {
  switch (type?.kind) {
    case 'integer':
    case 'decimal':
      return exactNumber;
    case 'float4':
    case 'float8':
      return Number;
    case 'boolean':
      return (text) => text === 't' || text === 'true';
    case 'timestamp':
      return (text) => preciseDateOf(text, zone ?? 'UTC') ?? text;
    case 'timestamptz':
      return (text) => preciseDateOf(text) ?? text;
    case 'json':
      return parseSourceJson;
    case 'bytes':
      return (text) => (text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : text);
    default:
      return (text) => text;
  }
}

/**
 * Arrays of types node-postgres has no parser for (enums, domains, extension types) arrive as the
 * array literal's text, `{viewer,editor}`: parse them by their resolved element type, in place.
 */
function parseUnknownArrays(rows: Record<string, unknown>[], columns: ColumnTypes, zone: string | undefined): void {
  const getTypeParser = pg.types.getTypeParser as (oid: number, format: 'text') => unknown;
  const parseTextArray = getTypeParser(TEXT_ARRAY_OID, 'text') as (text: string) => NestedText[] | null;
  for (const [name, type] of Object.entries(columns)) {
    if (type.kind !== 'array') continue;
    const parseElement = elementParser(type.element, zone);
    for (const row of rows) {
      const value = row[name];
      if (typeof value === 'string') row[name] = mapArray(parseTextArray(value), parseElement);
    }
  }
}

/** `2024-05-01 10:00:00.123` → `2024-05-01 10:00:00.123+00` (before a trailing ` BC`). */
function asUtc(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  return text.endsWith(' BC') ? `${text.slice(0, -3)}+00 BC` : `${text}+00`;
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
  return new PostgresLoader(pool, spec, positiveInt(options.timeoutMs, 5000));
}

/** What went wrong with a statement, decided from the driver's error. */
type Failure = 'connection' | 'timeout' | 'query';

/**
 * Connection-level: socket errors, SQLSTATE class 08 (connection exception; but a `bind message`
 * 08P01 is a statement error: wrong parameter count), 57P01-03 (admin/crash shutdown, cannot
 * connect now), 53300 (too many connections), class 28 (authentication), and pg's own errors for a
 * client or pool that is closed. Timeout: 57014 (statement timeout or cancel), 55P03 (lock
 * timeout), pg's client-side read timeout and the pool's wait for a free client.
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

/** SQLSTATE class 22 (data exception): an id the key column's type cannot hold. */
function isDataException(error: unknown): boolean {
  return errorCode(error)?.startsWith('22') === true;
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
  private readonly restart: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly spec: SourceSpec,
    private readonly timeoutMs: number,
  ) {
    // Integers we computed, never user text; SET cannot take bind parameters.
    const limits = `SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL lock_timeout = ${timeoutMs}`;
    // now() is the transaction's start, taken before the batch's snapshot: the database clock at
    // the moment the batch was read. floor(), so nowMs is a whole millisecond like Date.now().
    this.prelude = `BEGIN READ ONLY; ${limits}; SELECT floor(extract(epoch from now()) * 1000)::int8::text AS now_ms`;
    this.restart = `ROLLBACK; BEGIN READ ONLY; ${limits}`;
  }

  async load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch> {
    try {
      // Built before a connection is taken: a malformed table name fails here.
      const { sql, values } = this.batchStatement(rule, ids);
      return await this.inReadOnlyTransaction(async (client, nowMs) => {
        if (ids.length === 0) return toBatch([], rule.key, nowMs);
        let result: PgResultLike;
        try {
          result = lastResult(await client.query(sql, values));
        } catch (error) {
          if (rule.table === undefined || !isDataException(error)) throw error;
          await client.query(this.restart);
          const isolated = await this.isolateInvalidIds(client, rule, ids);
          if (isolated === undefined) return toBatch([], rule.key, nowMs);
          const columns = await this.columnTypes(client, isolated);
          parseUnknownArrays(isolated.rows, columns, this.spec.timezone);
          return { ...toBatch(isolated.rows, rule.key, nowMs), columns };
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
    const value = await this.inReadOnlyTransaction(async (client) => lastResult(await client.query(sql)).rows[0]?.['lag_ms']);
    return value === null || value === undefined ? undefined : Math.max(0, Number(value));
  }

  async activity(): Promise<number> {
    // The audit's own sessions carry application_name 'shadowcheck' (set on the pool).
    const sql = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND application_name <> 'shadowcheck'";
    return this.inReadOnlyTransaction(async (client) => Number(lastResult(await client.query(sql)).rows[0]?.['n'] ?? 0));
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
   * Loads `ids` one probe at a time under a savepoint, halving on a data exception, so that the
   * ids the key column cannot hold are found and left out (they cannot have a row) while every
   * other id is still answered (undefined when none is). Only for the table form: there the SQL is ours and the ids are
   * the only input that can fail a cast.
   */
  private async isolateInvalidIds(client: PgClientLike, rule: FamilyRule, ids: readonly string[]): Promise<PgResultLike | undefined> {
    await client.query('SAVEPOINT shadowcheck_probe');
    try {
      const { sql, values } = this.batchStatement(rule, ids);
      const result = lastResult(await client.query(sql, values));
      await client.query('RELEASE SAVEPOINT shadowcheck_probe');
      return result;
    } catch (error) {
      if (!isDataException(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT shadowcheck_probe; RELEASE SAVEPOINT shadowcheck_probe');
      if (ids.length === 1) return undefined;
      const half = Math.ceil(ids.length / 2);
      const head = await this.isolateInvalidIds(client, rule, ids.slice(0, half));
      const tail = await this.isolateInvalidIds(client, rule, ids.slice(half));
      if (head === undefined || tail === undefined) return head ?? tail;
      return { fields: head.fields, rows: [...head.rows, ...tail.rows] };
    }
  }

  /**
   * Runs `work` in `BEGIN READ ONLY` with the statement and lock timeouts, on a client of its own.
   * A client whose connection failed is destroyed, never returned to the pool.
   */
  private async inReadOnlyTransaction<T>(work: (client: PgClientLike, nowMs: number) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
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
