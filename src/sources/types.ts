import type { SourceSpec } from '../config/types.js';
import type { ColumnTypes } from '../core/column-type.js';
import type { FamilyRule } from '../core/rule.js';

/** Rows of one batch, keyed by the id their key columns spell (core/source-key.ts rowId; toBatch builds it). */
export interface SourceBatch {
  rows: Map<string, Record<string, unknown>>;
  /** The database's clock when the batch was read, epoch ms. */
  nowMs: number;
  /**
   * Ids for which the query returned more than one row; `rows` holds the first. Absent when there
   * were none. A duplicate means the family's query does not identify one row per id.
   */
  duplicateIds?: readonly string[];
  /**
   * Ids the family's query failed on by themselves, with the reason (the others of the batch were
   * answered): each is judged `error/source-error`. Absent when there were none.
   */
  failedIds?: ReadonlyMap<string, string>;
  /**
   * The type of every result column, from the driver's metadata (core/column-type.ts): fields are
   * compared by their column's type. Absent when the loader cannot tell (a module that declares none).
   */
  columns?: ColumnTypes;
}

/**
 * Reads source-of-truth rows for one family, a batch at a time, read-only.
 * Throws SourceQueryError when one batch failed but the source is still usable (the keys become
 * `error` verdicts), ConnectionError when the source is gone (the audit ends with exit 3).
 */
export interface SourceLoader {
  load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch>;
  /**
   * Checks, before the audit starts, that each family's query or table works (LIMIT 0 / describe),
   * and returns its result columns with their types (the rules are then checked against them).
   */
  check?(rule: FamilyRule): Promise<ColumnTypes | void>;
  /**
   * Ids of the rows whose `updatedAt` is within the last `withinMs` by the database's clock, most
   * recent first, at most `limit`: an indexed range query on the family's table (table form only).
   */
  recentIds?(rule: FamilyRule, withinMs: number, limit: number): Promise<string[]>;
  /**
   * Ids of about `count` rows picked at random from the family's table (--sampling source), the
   * same ones again for the same `seed` where the database allows: small tables ranked by a
   * seeded hash of the key; PostgreSQL TABLESAMPLE BERNOULLI REPEATABLE(seed), or SYSTEM_ROWS (not
   * seedable) on tables of a million rows and more when tsm_system_rows is installed; MySQL random
   * points of an integer key, else a seeded hash threshold (see <kind>/sample-ids.ts).
   * Table form only. Also how many rows the table holds (estimate), for the planner, and how the
   * rows were picked with that method's known limits, for the report (e.g. "TABLESAMPLE
   * SYSTEM_ROWS: whole pages, not reproducible with --seed").
   */
  sampleIds?(rule: FamilyRule, count: number, seed: number): Promise<SampledIds>;
  /** Other sessions' active queries on the source, excluding the audit's own: how busy it is. */
  activity?(): Promise<number>;
  /**
   * What the role the loader connects as could write (write-access.ts), as a clause like `role "app"
   * is a superuser`; undefined when it cannot write or the source cannot tell. Never throws.
   */
  writeAccess?(): Promise<string | undefined>;
  /** When the source is a replica: how far behind its primary it is, ms; undefined on a primary. */
  replicaLagMs?(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** What SourceLoader.sampleIds returns. */
export interface SampledIds {
  /** Ids spelled as rowId spells them (core/source-key.ts), distinct, at most the count asked. */
  ids: string[];
  /** How many rows the table holds: the catalog's estimate, or an exact count when it has none. */
  tableRows: number;
  /** How the rows were picked, and that method's known bias, in a sentence for the report. */
  method?: string;
}

export interface LoaderOptions {
  /** Per-statement timeout, ms. */
  timeoutMs: number;
  /** Upper bound on connections this loader opens. */
  maxConnections: number;
  /**
   * --insecure: accept any server certificate when the source's URL asks for TLS (sslmode,
   * ssl-mode). Encrypted, not authenticated. See src/sources/<kind>/tls.ts.
   */
  tlsInsecure?: boolean;
  /**
   * Where the loader says what the user should know but that changes no verdict, e.g. that the
   * source accepts fewer connections than maxConnections (connection-cap.ts). Silent when absent.
   */
  log?: { warn(fields: object, message: string): void };
}

/** A factory returns a ready loader (connected and verified), never one that needs an init() call. */
export type SourceLoaderFactory = (spec: SourceSpec, options: LoaderOptions) => Promise<SourceLoader>;

/** One batch failed (bad query, statement timeout); the source is still usable. */
export class SourceQueryError extends Error {
  readonly timeout: boolean;
  constructor(message: string, options: { timeout: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SourceQueryError';
    this.timeout = options.timeout;
  }
}
