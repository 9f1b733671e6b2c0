/**
 * What a source kind is, in one place (kysely's `Dialect`): everything the rest of the program
 * needs to know about postgres, mysql or module sources is read from the kind's descriptor, in
 * its folder (`src/sources/<kind>/descriptor.ts`), registered in registry.ts.
 *
 * Every part is required, and a part the kind does not have is `null`, never left out: a new
 * kind states each time that it has no TLS or no introspection, and a consumer (init, the rules
 * checks) says so to the user instead of borrowing another kind's behaviour.
 *
 * A descriptor is cheap to import: drivers (`pg`, `mysql2`) are imported by `createLoader` and
 * `introspection.introspect` with `await import()`, so `shadowcheck --version` or `rules validate`
 * never load one.
 */
import type { SourceSpec } from '../config/types.js';
import type { ColumnCategory, TableInfo } from '../init/catalog.js';
import type { ReadOnlyQueryPolicy } from './read-only-query.js';
import type { LoaderOptions, SourceLoader } from './types.js';

/** The URLs a source of this kind is connected with. */
export interface SourceUrlParts {
  /** Schemes as `URL.protocol` spells them, colon included (`postgres:`). */
  readonly schemes: readonly string[];
  /** A URL to show in messages: `postgres://user@host:5432/database`. */
  readonly example: string;
}

/** What the rules-file checks (config/semantic-checks.ts, query-policy-check.ts, load.ts) ask of the kind. */
export interface SourceRulesParts {
  /** A family reads with SQL the loader runs: it needs `query` or `table`. False: the kind reads as it likes. */
  readonly needsQueryOrTable: boolean;
  /**
   * The read-only query policy a family's `query` is held to (read-only-query.ts), importing the
   * kind's policy and parser on first call; null when `query` is not SQL run here.
   */
  readonly readOnlyQueryProblem: ReadOnlyQueryPolicy | null;
  /**
   * What is wrong with a compiled source that only the file system can tell (a loader module that
   * does not exist), each a sentence without the source's name: checked when a rules file is
   * loaded, so `rules validate` catches it. Null: the kind has nothing to check there.
   */
  readonly settingsProblems: ((spec: SourceSpec) => Promise<string[]>) | null;
  /** What is wrong with how a family's `query` takes its batch of ids (`arity` key columns): one sentence each. */
  queryProblems(query: string, arity: number): string[];
}

/** How SQL for this kind is written from names (init's proposals). */
export interface SourceSqlParts {
  /** The name quoted, always safe as an identifier (`"na""me"`, `` `na``me` ``). */
  quoteIdentifier(text: string): string;
  /** A name that reads as itself unquoted (the case the server folds to included). */
  readonly plainName: RegExp;
  /** The WHERE condition of a query that loads a batch of ids by one (quoted) key column. */
  batchCondition(quotedKey: string): string;
}

/** How a TLS failure is explained: the URL parameters the kind reads (its folder's tls.ts). */
export interface SourceTlsParts {
  /** The server offers no TLS at all. */
  readonly noTlsHint: string;
  /** The server's certificate was refused. */
  readonly untrustedHint: string;
}

/** How a catalog's column types read as init's categories. */
export interface SourceColumnTypeParts {
  /** `dataType` as the catalog names it (`bigint`, `tinyint`), `columnType` the full type (`tinyint(1)`) when the kind has one. */
  category(dataType: string, columnType?: string): ColumnCategory;
}

export interface IntrospectOptions {
  timeoutMs: number;
  tlsInsecure: boolean;
}

/** What `init` reads of a source's schema. */
export interface SourceIntrospectionParts {
  /** The source's tables, columns and keys, read read-only on a connection of its own. */
  introspect(spec: SourceSpec & { url: string }, options: IntrospectOptions): Promise<TableInfo[]>;
  /** What one namespace of tables is called in messages: `schema`, `database`. */
  readonly namespace: string;
  /** Why init cannot use this URL (a MySQL URL naming no database), checked before connecting. */
  urlProblem(url: URL, sourceName: string): { problem: string; hint: string } | undefined;
  /** The hint when reading the catalog fails after connecting: what init reads, and what to check. */
  readonly failureHint: string;
}

export interface SourceKindDescriptor {
  /** Null: the source has no URL of its own (a module is given by its path). */
  readonly url: SourceUrlParts | null;
  readonly rules: SourceRulesParts;
  /** Null: init cannot write SQL for it. */
  readonly sql: SourceSqlParts | null;
  /** Null: the kind reads no TLS parameters. */
  readonly tls: SourceTlsParts | null;
  /** Null: the loader's columns carry no catalog type (a module declares its own). */
  readonly columnTypes: SourceColumnTypeParts | null;
  /** A ready loader (connected and verified); imports the kind's driver on first call. */
  createLoader(spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader>;
  /** Null: `init` cannot read this kind's schema, and says so. */
  readonly introspection: SourceIntrospectionParts | null;
}
