/**
 * The SQL that selects a `rows: many` family's (or a child query's) rows for a batch: the
 * family's batch statement (its table form or its own query) wrapped as a subquery, each key's
 * rows in `orderBy` order and, with `limit`, at most the rows ranked ≤ limit:
 *
 *   SELECT * FROM (
 *     SELECT shadowcheck_rows.*, RANK() OVER (PARTITION BY <key> ORDER BY <orderBy>) AS shadowcheck_rank
 *     FROM (<batch statement>) AS shadowcheck_rows
 *   ) AS shadowcheck_ranked WHERE shadowcheck_rank <= <limit> ORDER BY <key>, <orderBy>
 *
 * RANK, not ROW_NUMBER: rows tied on every orderBy column at the boundary are all returned, so the
 * core can accept whichever of them the cache kept (SEMANTICS.md step 4). Without `limit`, only
 * `ORDER BY <key>, <orderBy>`. Every column is quoted as an identifier (the rules schema admits
 * only names in `orderBy`, parsed by config/order-by.ts); `limit` is an integer written as a
 * literal, so the family's own placeholders ($1…, ?) keep their numbering.
 */
import type { ManyRows, OrderTerm } from '../core/rule.js';
import { RANK_COLUMN, stripTrailingSemicolons } from './rows.js';

export interface OrderDialect {
  quote(name: string): string;
  /** PostgreSQL has NULLS FIRST/LAST; MySQL and MariaDB have not: `col IS NULL` orders them. */
  nullsClause: boolean;
}

/** `orderBy` as SQL ORDER BY items, NULLS FIRST/LAST emulated where the dialect lacks them. */
export function orderItems(terms: readonly OrderTerm[], dialect: OrderDialect): string[] {
  return terms.flatMap((term) => {
    const column = dialect.quote(term.column);
    const direction = term.descending ? 'DESC' : 'ASC';
    if (term.nulls === undefined) return [`${column} ${direction}`];
    if (dialect.nullsClause) return [`${column} ${direction} NULLS ${term.nulls === 'first' ? 'FIRST' : 'LAST'}`];
    // `col IS NULL` is 1 for a NULL: DESC puts them first, ASC last.
    return [`${column} IS NULL ${term.nulls === 'first' ? 'DESC' : 'ASC'}`, `${column} ${direction}`];
  });
}

/** The batch statement wrapped to return each key's rows in order, at most RANK() ≤ limit of them. Throws on a limit that is not a positive integer. */
export function manyRowsSql(statement: string, key: readonly string[], many: Pick<ManyRows, 'orderBy' | 'limit'>, dialect: OrderDialect): string {
  const keys = key.map((column) => dialect.quote(column));
  const order = orderItems(many.orderBy ?? [], dialect);
  const sorted = [...keys, ...order].join(', ');
  // The newline ends a trailing `--` comment of the family's query.
  const rows = `(\n${stripTrailingSemicolons(statement)}\n) AS shadowcheck_rows`;
  if (many.limit === undefined) return `SELECT * FROM ${rows} ORDER BY ${sorted}`;
  if (!Number.isSafeInteger(many.limit) || many.limit < 1) throw new Error(`limit ${String(many.limit)} is not a positive integer`);
  const window = `PARTITION BY ${keys.join(', ')}${order.length === 0 ? '' : ` ORDER BY ${order.join(', ')}`}`;
  return (
    `SELECT * FROM (SELECT shadowcheck_rows.*, RANK() OVER (${window}) AS ${RANK_COLUMN} FROM ${rows}) AS shadowcheck_ranked ` +
    `WHERE ${RANK_COLUMN} <= ${many.limit} ORDER BY ${sorted}`
  );
}

/**
 * Whether check() should also run the ranked statement (LIMIT 0): only once every key and orderBy
 * column is among the plain result's columns. A missing one is a rules error that
 * audit/rules-check.ts names with the columns that exist; anything else the wrapper trips on (a
 * server without window functions, a query whose columns repeat a name) fails the check instead
 * of every batch.
 */
export function rankedCheckApplies(many: Pick<ManyRows, 'orderBy'>, key: readonly string[], columns: readonly string[]): boolean {
  const have = new Set(columns);
  return [...key, ...(many.orderBy ?? []).map((t) => t.column)].every((column) => have.has(column));
}

/** The hint for a ranked statement the server refused: what the wrapper needs. */
export const RANKED_CHECK_HINT =
  'rows: many is read through a subquery of the family\'s statement, ranked with RANK() OVER (PARTITION BY key ORDER BY orderBy) when it has a limit: the server needs window functions (PostgreSQL, MySQL 8.0+, MariaDB 10.2+) and the query\'s column names must be unique';
