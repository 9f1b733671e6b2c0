/**
 * The parts of node-postgres the loader uses, structurally (like kysely's PostgresPool): nothing
 * here imports `pg`, so tests can hand the loader anything of this shape.
 */

/** The part of a pg result the loader reads. */
export interface PgResultLike {
  rows: Record<string, unknown>[];
  /** `dataTypeID`: the column's type OID (pg_type.oid), resolved by column-types.ts. */
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

/** The result of the last statement of a (possibly multi-statement) query. */
export function lastResult(result: PgResultLike | PgResultLike[]): PgResultLike {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  if (last === undefined) throw new Error('the server returned no result');
  return last;
}
