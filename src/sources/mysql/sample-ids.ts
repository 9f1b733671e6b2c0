/**
 * --sampling source on MySQL / MariaDB: about `count` random rows of the family's table, as ids.
 * There is no TABLESAMPLE; the rows are picked by key.
 *
 * The table's size is information_schema.TABLES.TABLE_ROWS (InnoDB's estimate), or COUNT(*) when
 * that has none (a view, a table whose statistics are not computed yet). Then:
 * - a small table (fewer than SMALL_TABLE_FACTOR x count rows), or a view: every row ranked by
 *   MD5(seed, key), the first `count` kept. Exact and reproducible for a seed, one full read;
 * - a one-column integer key with an index: seeded random integers between MIN(key) and MAX(key).
 *   When the keys fill at least MIN_DENSITY of that range, the points are looked up exactly
 *   (`key IN (...)`, index lookups) and the rows hit are kept in draw order: uniform over the
 *   rows, reproducible for a seed. Sparser keys would need too many points, so each point takes
 *   the first row at or after it (`key >= p ORDER BY key LIMIT 1`), which favours the rows that
 *   follow gaps in the key (deleted ranges): the method says so;
 * - any other key (text, composite, not indexed): each row kept when a seeded MD5 of its key
 *   falls under a threshold aimed at OVERSAMPLE x count, trimmed to `count` by that hash. Uniform
 *   and reproducible, but a read of every row (no index can pick such keys at random).
 * Ids are the key columns `CAST(... AS CHAR)`, as recentIds and rowId spell them.
 */
import type { FamilyRule } from '../../core/rule.js';
import { rowId } from '../../core/source-key.js';
import { splitQualifiedName } from '../identifiers.js';
import { distinctPoints, OVERSAMPLE, requireSampleTable, sampleCount, seededRandom, SMALL_TABLE_FACTOR } from '../sample-ids.js';
import type { SampledIds } from '../types.js';
import { mysqlTableName, quoteMysqlIdentifier } from './identifiers.js';

/** Runs one statement in the loader's read-only transaction, returning its rows. */
export type MysqlRows = (sql: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Exact point lookups when the keys fill at least this share of MIN..MAX (at most ~60 points per row wanted). */
export const MIN_DENSITY = 0.02;
/** Points per statement. */
const POINTS_PER_QUERY = 1000;
const RANGE_POINTS_PER_QUERY = 100;
/** Rounds of points before settling for fewer rows than asked (collisions, a stale estimate). */
const ROUNDS = 6;

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

export async function sampleMysqlIds(rows: MysqlRows, rule: FamilyRule, count: number, seed: number): Promise<SampledIds> {
  const name = requireSampleTable(rule);
  const table = mysqlTableName(name);
  const parts = splitQualifiedName(name, '`').map((p) => p.text);
  const [schema, bare] = parts.length > 1 ? [parts[0] as string, parts[parts.length - 1] as string] : [null, parts[0] as string];
  const want = sampleCount(count);
  const aliases = rule.key.map((_, i) => `k${i}`);
  const keys = rule.key.map(quoteMysqlIdentifier);
  const select = `SELECT ${keys.map((k, i) => `CAST(${k} AS CHAR) AS ${aliases[i] as string}`).join(', ')} FROM ${table}`;
  const hash = `MD5(CONCAT_WS(',', ?, ${keys.join(', ')}))`;
  const ids = async (sql: string, values?: unknown[]) => (await rows(sql, values)).flatMap((r) => rowId(r, aliases) ?? []);
  if (rule.many !== undefined) return sampleDistinctKeys(rows, rule, table, want, seed);

  const [info] = await rows('SELECT TABLE_ROWS AS n, TABLE_TYPE AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?', [schema, bare]);
  const isView = info !== undefined && String(info['t']) === 'VIEW';
  let tableRows = Number(info?.['n'] ?? 0);
  // No estimate (a view, statistics not computed yet): count.
  if (!(tableRows > 0)) tableRows = Number((await rows(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.['n'] ?? 0);
  if (want === 0) return { ids: [], tableRows, method: 'no rows asked' };

  if (isView || tableRows < SMALL_TABLE_FACTOR * want) {
    return {
      ids: await ids(`${select} ORDER BY ${hash} LIMIT ?`, [String(seed), want]),
      tableRows,
      method: `MySQL: all ${tableRows} rows ranked by a seeded hash of the key (exact, reproducible with --seed)`,
    };
  }
  if (rule.key.length === 1 && (await indexedIntegerKey(rows, schema, bare, rule.key[0] as string))) {
    const key = keys[0] as string;
    const [bounds] = await rows(`SELECT CAST(MIN(${key}) AS CHAR) AS lo, CAST(MAX(${key}) AS CHAR) AS hi FROM ${table}`);
    if (bounds?.['lo'] === null || bounds?.['lo'] === undefined) return { ids: [], tableRows, method: 'MySQL: the table is empty' };
    const lo = BigInt(String(bounds['lo']));
    const hi = BigInt(String(bounds['hi']));
    const density = Math.min(1, tableRows / Number(hi - lo + 1n));
    const picked = density >= MIN_DENSITY ? await exactPoints(ids, select, key, lo, hi, density, want, seed) : await rangePoints(ids, select, key, lo, hi, want, seed);
    return {
      ids: picked,
      tableRows,
      method:
        density >= MIN_DENSITY
          ? 'MySQL: seeded random points of the integer key looked up exactly (uniform over rows, reproducible with --seed)'
          : 'MySQL: seeded random points of a sparse integer key, each taking the next row; rows after gaps in the key are favoured',
    };
  }
  const share = Math.min(1, (OVERSAMPLE * want + 10) / Math.max(1, tableRows));
  const threshold = Math.floor(share * 2 ** 32);
  return {
    ids: await ids(`${select} WHERE CONV(LEFT(${hash}, 8), 16, 10) < ? ORDER BY ${hash} LIMIT ?`, [String(seed), threshold, String(seed), want]),
    tableRows,
    method: 'MySQL: rows kept by a seeded hash of the key (uniform, reproducible with --seed; reads every row)',
  };
}

/**
 * `rows: many`: one key stands for many rows, so the draw is over the DISTINCT keys, each ranked by
 * a seeded MD5 of its text: a key with 20 rows is no likelier than one with 1. Exact and
 * reproducible, but a read of every row. `tableRows` is then the number of distinct keys: the
 * population the cache's keys come from.
 */
async function sampleDistinctKeys(rows: MysqlRows, rule: FamilyRule, table: string, want: number, seed: number): Promise<SampledIds> {
  const aliases = rule.key.map((_, i) => `k${i}`);
  const keys = `SELECT DISTINCT ${rule.key.map((column, i) => `CAST(${quoteMysqlIdentifier(column)} AS CHAR) AS ${aliases[i] as string}`).join(', ')} FROM ${table}`;
  const sql = `SELECT ${aliases.join(', ')}, COUNT(*) OVER () AS shadowcheck_keys FROM (${keys}) AS shadowcheck_keys ORDER BY MD5(CONCAT_WS(',', ?, ${aliases.join(', ')})) LIMIT ?`;
  const picked = want === 0 ? [] : await rows(sql, [String(seed), want]);
  const tableRows =
    picked.length === 0 ? Number((await rows(`SELECT COUNT(*) AS n FROM (${keys}) AS shadowcheck_keys`))[0]?.['n'] ?? 0) : Number(picked[0]?.['shadowcheck_keys']);
  return {
    ids: picked.flatMap((r) => rowId(r, aliases) ?? []),
    tableRows,
    method: `MySQL: all ${tableRows} distinct keys ranked by a seeded hash (uniform over keys: keys with more rows are not favoured; exact, reproducible with --seed; reads every row)`,
  };
}

/**
 * --recent: the keys whose rows changed within the window, most recent first. For `rows: many`
 * each key once (GROUP BY the key, ordered by its latest change). Values: the window in
 * microseconds, then the limit.
 */
export function recentMysqlIdsSql(rule: FamilyRule, recent: { table: string; updatedAt: string }): { sql: string; aliases: string[] } {
  const aliases = rule.key.map((_, i) => `k${i}`);
  const columns = rule.key.map((column, i) => `CAST(${quoteMysqlIdentifier(column)} AS CHAR) AS ${aliases[i] as string}`).join(', ');
  const updatedAt = quoteMysqlIdentifier(recent.updatedAt);
  const from = `FROM ${mysqlTableName(recent.table)} WHERE ${updatedAt} >= NOW(3) - INTERVAL ? MICROSECOND`;
  if (rule.many === undefined) return { sql: `SELECT ${columns} ${from} ORDER BY ${updatedAt} DESC LIMIT ?`, aliases };
  return { sql: `SELECT ${columns} ${from} GROUP BY ${rule.key.map(quoteMysqlIdentifier).join(', ')} ORDER BY MAX(${updatedAt}) DESC LIMIT ?`, aliases };
}

/** Whether `column` is an integer column and the first column of some index (so `k >= ?` and `k IN` are index lookups). */
async function indexedIntegerKey(rows: MysqlRows, schema: string | null, table: string, column: string): Promise<boolean> {
  const [found] = await rows(
    'SELECT c.DATA_TYPE AS type, EXISTS (SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = c.TABLE_SCHEMA ' +
      'AND s.TABLE_NAME = c.TABLE_NAME AND s.COLUMN_NAME = c.COLUMN_NAME AND s.SEQ_IN_INDEX = 1) AS indexed ' +
      'FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND c.TABLE_NAME = ? AND c.COLUMN_NAME = ?',
    [schema, table, column],
  );
  return found !== undefined && INTEGER_TYPES.has(String(found['type']).toLowerCase()) && Number(found['indexed']) === 1;
}

type Ids = (sql: string, values?: unknown[]) => Promise<string[]>;

/**
 * Distinct random points looked up exactly, round after round until `want` rows are hit; the
 * rows are kept in the order their points were drawn, so trimming to `want` stays uniform.
 * The points are integers computed here, written into the SQL as literals.
 */
async function exactPoints(ids: Ids, select: string, key: string, lo: bigint, hi: bigint, density: number, want: number, seed: number): Promise<string[]> {
  const rng = seededRandom(seed);
  const tried = new Set<bigint>();
  const picked: string[] = [];
  let share = density;
  for (let round = 0; round < ROUNDS && picked.length < want; round++) {
    const points = distinctPoints(lo, hi, Math.ceil(((want - picked.length) / share) * 1.2) + 10, rng, tried);
    if (points.length === 0) break;
    const hits = new Set<string>();
    for (let from = 0; from < points.length; from += POINTS_PER_QUERY) {
      const chunk = points.slice(from, from + POINTS_PER_QUERY);
      for (const id of await ids(`${select} WHERE ${key} IN (${chunk.join(', ')})`)) hits.add(id);
    }
    for (const point of points) {
      tried.add(point);
      if (picked.length < want && hits.has(point.toString())) picked.push(point.toString());
    }
    // The estimate may be stale: the next round sizes itself by the share of points that hit.
    share = Math.max(MIN_DENSITY, hits.size / points.length);
  }
  return picked;
}

/** Each random point takes the first row at or after it; repeats dropped, in draw order. */
async function rangePoints(ids: Ids, select: string, key: string, lo: bigint, hi: bigint, want: number, seed: number): Promise<string[]> {
  const rng = seededRandom(seed);
  const tried = new Set<bigint>();
  const picked = new Set<string>();
  for (let round = 0; round < ROUNDS && picked.size < want; round++) {
    const points = distinctPoints(lo, hi, Math.ceil((want - picked.size) * OVERSAMPLE), rng, tried);
    if (points.length === 0) break;
    for (let from = 0; from < points.length && picked.size < want; from += RANGE_POINTS_PER_QUERY) {
      const chunk = points.slice(from, from + RANGE_POINTS_PER_QUERY);
      chunk.forEach((p) => tried.add(p));
      const sql = chunk.map((p) => `(${select} WHERE ${key} >= ${p} ORDER BY ${key} LIMIT 1)`).join(' UNION ALL ');
      for (const id of await ids(sql)) if (picked.size < want) picked.add(id);
    }
  }
  return [...picked];
}
