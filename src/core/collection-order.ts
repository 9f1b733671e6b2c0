/**
 * What a cached collection must hold, and in which order, given the source rows of one key in
 * `orderBy` order. Rows tied on every orderBy column form a tie group: the cache may hold them in
 * any order. The loaders keep at most `limit` rows per key by RANK(), so when the source returned
 * more than `limit` rows, the group at the boundary is tied and any of its rows may fill the
 * cache's last places.
 */
import { toDecimal } from './decimal.js';
import { formatInstant, instantOf, parseInstant } from './instant.js';
import { canonicalKey } from './normalize.js';
import type { OrderTerm } from './rule.js';

type Row = Readonly<Record<string, unknown>>;

export interface ExpectedRows {
  /** Tie group of each source row, by index (0, 0, 1, 2, 2, ...). */
  groups: number[];
  /** Rows the cache must hold: every row before the boundary group (all rows when there is none). */
  fixed: number;
  /** Rows of the boundary group (indexes `fixed` .. `fixed + pool - 1`), of which `needed` fill the cache. */
  pool: number;
  needed: number;
}

/** The value of an order column; a query may return `o.created_at` as `created_at`. */
function orderValue(row: Row, column: string): unknown {
  if (Object.hasOwn(row, column)) return row[column];
  const dot = column.lastIndexOf('.');
  return dot === -1 ? undefined : row[column.slice(dot + 1)];
}

/**
 * A text as the default MySQL/MariaDB collations (`utf8mb4_general_ci`, `utf8mb4_0900_ai_ci`,
 * PAD SPACE) rank it: case, accents and trailing spaces ignored: they tie `Alice` and `alice`,
 * returned in either order; holding them to an order would page someone for a tie. Used only
 * without the database's rank (no `limit`), where a tie loosens the order check and nothing else.
 */
function collationFold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');
}

/** Equal for rows the database would sort as equal (a Date keeps its microseconds). */
function tieKey(value: unknown): string {
  if (value instanceof Date) {
    const instant = instantOf(value);
    return instant === undefined ? 'Invalid Date' : formatInstant(instant);
  }
  if (typeof value === 'string' && toDecimal(value) === undefined) {
    const instant = parseInstant(value.trim());
    if (instant !== undefined) return formatInstant(instant);
    return canonicalKey(collationFold(value));
  }
  return canonicalKey(value);
}

/**
 * The rank the SQL loaders' RANK() ≤ limit wrapper gave a row (many-rows-sql.ts), kept on the row
 * as a non-enumerable property (sources/rows.ts): no comparison, display or copy sees it, but
 * the ties it records are the database's own (its collation, its precision), where tieKey can
 * only guess.
 */
export const RANK_COLUMN = 'shadowcheck_rank';

function rankOf(row: Row): string | undefined {
  const rank = Object.getOwnPropertyDescriptor(row, RANK_COLUMN)?.value as unknown;
  return rank === undefined || rank === null ? undefined : String(rank);
}

/**
 * Tie groups of the rows in source order: by the database's RANK() when every row carries one,
 * else by the orderBy values. Without orderBy every row is tied with every other (SQL gives no
 * order, so none can be checked); a row lacking an order column ties with its neighbours rather
 * than be held to an order nobody can know.
 */
export function tieGroups(rows: readonly Row[], orderBy: readonly OrderTerm[] | undefined): number[] {
  const groups: number[] = [];
  let group = 0;
  let previous: string | undefined;
  const ranked = orderBy !== undefined && rows.length > 0 && rows.every((row) => rankOf(row) !== undefined);
  for (const row of rows) {
    const key = orderBy === undefined ? '' : ranked ? (rankOf(row) as string) : JSON.stringify(orderBy.map((term) => tieKey(orderValue(row, term.column))));
    if (previous !== undefined && key !== previous) group++;
    groups.push(group);
    previous = key;
  }
  return groups;
}

export function expectedRows(rows: readonly Row[], orderBy: readonly OrderTerm[] | undefined, limit: number | undefined): ExpectedRows {
  const groups = tieGroups(rows, orderBy);
  if (limit === undefined || rows.length <= limit) return { groups, fixed: rows.length, pool: 0, needed: 0 };
  const boundary = groups[limit - 1] as number;
  let start = limit - 1;
  while (start > 0 && groups[start - 1] === boundary) start--;
  let end = limit;
  while (end < rows.length && groups[end] === boundary) end++;
  return { groups, fixed: start, pool: end - start, needed: limit - start };
}

/** The tie group the cache's position `i` must hold a row of (past the fixed rows: the boundary group). */
export function groupAt(expected: ExpectedRows, i: number): number | undefined {
  if (i < expected.fixed) return expected.groups[i];
  return i < expected.fixed + expected.needed ? expected.groups[expected.fixed] : undefined;
}
