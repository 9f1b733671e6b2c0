/**
 * --sampling source on PostgreSQL: about `count` random rows of the family's table, as ids.
 *
 * The table's size comes from the catalog (pg_class.reltuples, kept by ANALYZE/autovacuum), or
 * from count(*) when the table was never analyzed (reltuples < 0; 0 before PostgreSQL 14). Then:
 * - a small table (fewer than SMALL_TABLE_FACTOR x count rows), or a view: every row ranked by
 *   md5(seed, key), the first `count` kept. Exact and reproducible for a seed, one full read;
 * - a large table (SYSTEM_ROWS_MIN_ROWS and more) with `tsm_system_rows` installed:
 *   `TABLESAMPLE SYSTEM_ROWS(n)`, which reads only the pages it needs, however large the table,
 *   but takes whole pages, so rows stored together come together, and it takes no seed.
 *   SYSTEM_ROWS_SPREAD times the count is read and `count` kept at random (seeded) to spread the
 *   sample over more pages;
 * - otherwise `TABLESAMPLE BERNOULLI(p) REPEATABLE(seed)`: each row kept with probability p,
 *   aimed at OVERSAMPLE x count from the estimate, then trimmed to `count` by md5(seed, key).
 *   Row-level uniform and reproducible for a seed while the table's pages do not change, but it
 *   reads every page of the table: below SYSTEM_ROWS_MIN_ROWS that is a fraction of a second,
 *   and worth the uniformity, so SYSTEM_ROWS is kept for the tables where it is not.
 * Ids are the key columns as text (`::text`), as recentIds and rowId spell them.
 */
import type { FamilyRule } from '../../core/rule.js';
import { rowId } from '../../core/source-key.js';
import { OVERSAMPLE, requireSampleTable, sampleCount, seededPick, SMALL_TABLE_FACTOR } from '../sample-ids.js';
import type { SampledIds } from '../types.js';
import { pgTableName, quotePgIdentifier } from './identifiers.js';
import { lastResult, type PgClientLike } from './pool-like.js';

/** SYSTEM_ROWS reads this many times the count, so the kept rows come from that many more pages. */
const SYSTEM_ROWS_SPREAD = 10;

/** Below this many rows BERNOULLI's full read is cheap: SYSTEM_ROWS' page clustering is not worth it. */
export const SYSTEM_ROWS_MIN_ROWS = 1_000_000;

/** Runs in the loader's read-only transaction on `client`. */
export async function samplePgIds(client: PgClientLike, rule: FamilyRule, count: number, seed: number): Promise<SampledIds> {
  const table = pgTableName(requireSampleTable(rule));
  const want = sampleCount(count);
  const aliases = rule.key.map((_, i) => `k${i}`);
  const select = `SELECT ${rule.key.map((column, i) => `${quotePgIdentifier(column)}::text AS ${aliases[i] as string}`).join(', ')} FROM ${table}`;
  // The key as one text, for ranking by a seeded hash: md5('<seed>:' || k0 || ',' || k1 ...).
  const keyText = rule.key.map((column) => `coalesce(${quotePgIdentifier(column)}::text, '')`).join(` || ',' || `);
  const rank = `md5($1::text || ':' || ${keyText})`;
  const ids = async (sql: string, values: unknown[]) => lastResult(await client.query(sql, values)).rows.flatMap((r) => rowId(r, aliases) ?? []);

  if (rule.many !== undefined) return sampleDistinctKeys(client, rule, table, want, seed);
  const { rows: tableRows, sampleable } = await estimateRows(client, table);
  if (want === 0) return { ids: [], tableRows, method: 'no rows asked' };
  if (!sampleable || tableRows < SMALL_TABLE_FACTOR * want) {
    return {
      ids: await ids(`${select} ORDER BY ${rank} LIMIT $2`, [String(seed), want]),
      tableRows,
      method: `PostgreSQL: all ${tableRows} rows ranked by a seeded hash of the key (exact, reproducible with --seed)`,
    };
  }
  const systemRows = tableRows >= SYSTEM_ROWS_MIN_ROWS ? await systemRowsMethod(client) : undefined;
  if (systemRows !== undefined) {
    const read = await ids(`${select} TABLESAMPLE ${systemRows}($1)`, [want * SYSTEM_ROWS_SPREAD]);
    return {
      ids: seededPick(read, want, seed),
      tableRows,
      method: 'PostgreSQL TABLESAMPLE SYSTEM_ROWS: whole pages, so rows stored together are drawn together, and not reproducible with --seed',
    };
  }
  const percent = Math.min(100, (100 * (OVERSAMPLE * want + 10)) / Math.max(1, tableRows));
  return {
    ids: await ids(`${select} TABLESAMPLE BERNOULLI($2) REPEATABLE($3) ORDER BY ${rank} LIMIT $4`, [String(seed), percent, seed, want]),
    tableRows,
    method: `PostgreSQL TABLESAMPLE BERNOULLI(${percent.toPrecision(3)}%) REPEATABLE(seed): uniform over rows, reproducible with --seed while the table's pages do not change; fewer rows than asked when the row estimate is high`,
  };
}

/**
 * `rows: many`: one key stands for many rows, so the draw is over the DISTINCT keys, each ranked by
 * a seeded hash of its text: a key with 20 rows is no likelier than one with 1. Exact and
 * reproducible, but a read of every row (no sample of rows can be uniform over keys). `tableRows`
 * is then the number of distinct keys: the population the cache's keys come from.
 */
async function sampleDistinctKeys(client: PgClientLike, rule: FamilyRule, table: string, want: number, seed: number): Promise<SampledIds> {
  const aliases = rule.key.map((_, i) => `k${i}`);
  const keys = `SELECT DISTINCT ${rule.key.map((column, i) => `${quotePgIdentifier(column)}::text AS ${aliases[i] as string}`).join(', ')} FROM ${table}`;
  const keyText = aliases.map((alias) => `coalesce(${alias}, '')`).join(` || ',' || `);
  const sql = `SELECT ${aliases.join(', ')}, count(*) OVER () AS shadowcheck_keys FROM (${keys}) AS shadowcheck_keys ORDER BY md5($1::text || ':' || ${keyText}) LIMIT $2`;
  const rows = want === 0 ? [] : lastResult(await client.query(sql, [String(seed), want])).rows;
  const tableRows = rows.length === 0 ? Number(lastResult(await client.query(`SELECT count(*) AS n FROM (${keys}) AS shadowcheck_keys`)).rows[0]?.['n'] ?? 0) : Number(rows[0]?.['shadowcheck_keys']);
  return {
    ids: rows.flatMap((r) => rowId(r, aliases) ?? []),
    tableRows,
    method: `PostgreSQL: all ${tableRows} distinct keys ranked by a seeded hash (uniform over keys: keys with more rows are not favoured; exact, reproducible with --seed; reads every row)`,
  };
}

/**
 * --recent: the keys whose rows changed within the window, most recent first. For `rows: many`
 * each key once (GROUP BY the key, ordered by its latest change), so a key with many recent rows
 * is not listed many times. `$1` is the window in ms, `$2` the limit.
 */
export function recentPgIdsSql(rule: FamilyRule, recent: { table: string; updatedAt: string }): { sql: string; aliases: string[] } {
  const aliases = rule.key.map((_, i) => `k${i}`);
  const columns = rule.key.map((column, i) => `${quotePgIdentifier(column)}::text AS ${aliases[i] as string}`).join(', ');
  const updatedAt = quotePgIdentifier(recent.updatedAt);
  const where = `WHERE ${updatedAt} >= now() - make_interval(secs => $1::float8 / 1000)`;
  const from = `FROM ${pgTableName(recent.table)} ${where}`;
  if (rule.many === undefined) return { sql: `SELECT ${columns} ${from} ORDER BY ${updatedAt} DESC LIMIT $2`, aliases };
  const group = rule.key.map(quotePgIdentifier).join(', ');
  return { sql: `SELECT ${columns} ${from} GROUP BY ${group} ORDER BY max(${updatedAt}) DESC LIMIT $2`, aliases };
}

/**
 * The table's rows by the catalog, or count(*) when it has no estimate; and whether TABLESAMPLE
 * applies (a table or materialized view, not a view or foreign table).
 */
async function estimateRows(client: PgClientLike, table: string): Promise<{ rows: number; sampleable: boolean }> {
  const sql = "SELECT c.reltuples::float8 AS estimate, c.relkind IN ('r', 'm', 'p') AS sampleable FROM pg_class c WHERE c.oid = to_regclass($1)";
  const row = lastResult(await client.query(sql, [table])).rows[0];
  const estimate = Number(row?.['estimate'] ?? -1);
  const sampleable = row?.['sampleable'] === true;
  // Never analyzed (-1 from PostgreSQL 14, 0 before; partitioned parents too): count the rows.
  if (estimate > 0) return { rows: Math.round(estimate), sampleable };
  const counted = lastResult(await client.query(`SELECT count(*)::float8 AS n FROM ${table}`)).rows[0];
  return { rows: Number(counted?.['n'] ?? 0), sampleable };
}

/** `"schema".system_rows` when the tsm_system_rows extension is installed in this database. */
async function systemRowsMethod(client: PgClientLike): Promise<string | undefined> {
  const sql = "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'tsm_system_rows'";
  const schema = lastResult(await client.query(sql)).rows[0]?.['schema'];
  return typeof schema === 'string' ? `${quotePgIdentifier(schema)}.system_rows` : undefined;
}
