/**
 * One id must never hide its batch-mates. PostgreSQL casts the batch's ids to the key column's
 * type, so an id that type cannot hold (`user:abc` against a bigint key) fails the whole batch
 * with a data exception (SQLSTATE class 22). When that happens the batch is retried under
 * savepoints, halving it until the failing ids are isolated; every other id is answered.
 *
 * What an isolated id then is depends on where the error can come from:
 * - `table` form: the SQL is ours, so only an id can fail a cast: the id cannot be a key, no row
 *   can have it, and it is absent (SEMANTICS.md step 3: `orphan`, or `ttl-bounded-assumed`, or a
 *   negative-marker match), exactly as a well-formed id with no row.
 * - `query` form: the error may come from the user's SQL on one row (`1 / (id - 13)`). So the
 *   server is asked whether the id can be bound at all: the query's parameter types are read from
 *   a PREPARE (pg_prepared_statements), and each part of the id is cast to its parameter's element
 *   type. An id that cannot be cast cannot be a key: absent, as above. One that can was failed by
 *   the query itself: it gets its own `error/source-error` verdict with the server's message,
 *   never a guessed verdict.
 */
import type { PgClientLike, PgResultLike } from './pool-like.js';
import { errorCode } from '../errors.js';
import { stripTrailingSemicolons } from '../rows.js';

/** SQLSTATE class 22 (data exception): an id the key column's type cannot hold, or a row's data. */
export function isDataException(error: unknown): boolean {
  return errorCode(error)?.startsWith('22') === true;
}

/** Queries one batch may spend isolating failures: bounds the cost when many rows fail. */
const MAX_PROBES = 64;

export interface Isolated {
  /** The rows of every id that did not fail; undefined when none was answered. */
  result: PgResultLike | undefined;
  /** Ids failed by the family's query itself (query form only), with the reason: `error/source-error`. */
  failed: Map<string, string>;
}

export interface IsolationInput {
  client: PgClientLike;
  ids: readonly string[];
  /** The batch statement for some of the ids. */
  statement(ids: readonly string[]): { sql: string; values: unknown[] };
  /** The family's own query (query form), or undefined for the table form. */
  query: string | undefined;
  /** How many key columns an id spells (core/source-key.ts idParts splits it). */
  split(id: string): string[];
  describe(error: unknown): string;
}

function lastResult(result: PgResultLike | PgResultLike[]): PgResultLike {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  if (last === undefined) throw new Error('the server returned no result');
  return last;
}

/** Runs `work` under a savepoint; a data exception (or any error, with `anyError`) rolls back to it and is returned. */
async function underSavepoint<T>(client: PgClientLike, work: () => Promise<T>, anyError = false): Promise<{ ok: T } | { error: unknown }> {
  await client.query('SAVEPOINT shadowcheck_probe');
  try {
    const ok = await work();
    await client.query('RELEASE SAVEPOINT shadowcheck_probe');
    return { ok };
  } catch (error) {
    if (!anyError && !isDataException(error)) throw error;
    // A lost connection fails this too, and is what the caller then sees.
    await client.query('ROLLBACK TO SAVEPOINT shadowcheck_probe; RELEASE SAVEPOINT shadowcheck_probe');
    return { error };
  }
}

/** Isolates the ids that fail the batch; see the file's comment for what becomes of them. */
export async function isolateFailingIds(input: IsolationInput): Promise<Isolated> {
  const failedBy = new Map<string, unknown>();
  let probes = 0;
  const bisect = async (ids: readonly string[]): Promise<PgResultLike | undefined> => {
    probes++;
    const { sql, values } = input.statement(ids);
    const outcome = await underSavepoint(input.client, async () => lastResult(await input.client.query(sql, values)));
    if ('ok' in outcome) return outcome.ok;
    if (ids.length === 1 || probes >= MAX_PROBES) {
      for (const id of ids) failedBy.set(id, outcome.error);
      return undefined;
    }
    const half = Math.ceil(ids.length / 2);
    const head = await bisect(ids.slice(0, half));
    const tail = await bisect(ids.slice(half));
    if (head === undefined || tail === undefined) return head ?? tail;
    return { fields: head.fields, rows: [...head.rows, ...tail.rows] };
  };
  const result = await bisect(input.ids);
  const failed = new Map<string, string>();
  if (input.query === undefined || failedBy.size === 0) return { result, failed };

  const types = await parameterElementTypes(input.client, input.query);
  for (const [id, error] of failedBy) {
    if (types !== undefined && !(await bindable(input.client, input.split(id), types))) continue;
    failed.set(id, `the family's query failed for this id: ${input.describe(error)}`);
  }
  return { result, failed };
}

/**
 * The element type of each of the query's parameters (`bigint` for `$1` inferred as `bigint[]`),
 * as the server infers them for the loader's untyped array literals; undefined when it cannot say.
 */
async function parameterElementTypes(client: PgClientLike, query: string): Promise<string[] | undefined> {
  // The query passed the read-only policy (one SELECT); PREPARE only parses and plans it.
  const prepared = await underSavepoint(client, () => client.query(`PREPARE shadowcheck_params AS ${stripTrailingSemicolons(query)}`), true);
  if ('error' in prepared) return undefined;
  try {
    const sql = "SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'shadowcheck_params'";
    const types: unknown = lastResult(await client.query(sql)).rows[0]?.['types'];
    if (!Array.isArray(types) || !types.every((t): t is string => typeof t === 'string')) return undefined;
    return types.map((t) => t.replace(/\[\]$/, ''));
  } finally {
    // Prepared statements outlive transactions: never leave one on a pooled session.
    await client.query('DEALLOCATE shadowcheck_params');
  }
}

/** Whether every part of an id can be cast to its parameter's element type. */
async function bindable(client: PgClientLike, parts: readonly string[], types: readonly string[]): Promise<boolean> {
  for (const [i, part] of parts.entries()) {
    const type = types[i];
    if (type === undefined || type === 'text' || type === 'unknown') continue;
    // `type` is the server's own regtype output (quoted where it needs to be), never user text.
    const cast = await underSavepoint(client, () => client.query(`SELECT CAST($1::text AS ${type})`, [part]), true);
    if ('error' in cast) return false;
  }
  return true;
}
