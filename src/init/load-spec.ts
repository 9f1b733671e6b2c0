/**
 * How a family loads its rows: `table: schema.table` when the names are plain and the cached
 * fields are named as the columns are, otherwise a `query` that selects the columns under the
 * cached names (`monthly_api_limit AS "monthlyApiLimit"`), batched as the loaders expect
 * (`= ANY($1)` on PostgreSQL, `IN (?)` on MySQL: the kind's descriptor writes the condition).
 */
import { UsageError } from '../errors.js';
import type { SourceSqlParts } from '../sources/descriptor.js';
import { SOURCE_KINDS } from '../sources/registry.js';
import type { SourceKindName, TableInfo } from './catalog.js';

/** A column selected under the name the cache uses for it (alias undefined: its own name). */
export interface SelectColumn {
  column: string;
  alias?: string;
}

export type LoadSpec = { table: string } | { query: string };

/** Words both databases reserve (or that would change meaning unquoted, like pg's `user`). */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both by case cast check collate column constraint create ' +
    'current_date current_role current_time current_timestamp current_user default deferrable delete desc distinct do ' +
    'else end except false fetch for foreign from grant group having in index initially inner insert intersect into is join ' +
    'key keys lateral leading left like limit localtime localtimestamp not null offset on only or order outer placing ' +
    'primary range rank references returning right row rows select session_user set some symmetric table then to ' +
    'trailing true union unique update user using values variadic when where window with'
  ).split(' '),
);

/** How the kind writes SQL (its descriptor's `sql`); a kind without it cannot have a proposal. */
function sqlOf(kind: SourceKindName): SourceSqlParts {
  const sql = SOURCE_KINDS[kind].sql;
  if (sql === null) throw new UsageError(`init cannot write SQL for a ${kind} source`);
  return sql;
}

/** The table form's schema pattern (rules.schema.json), with the case the kind folds unquoted names to. */
function plainName(name: string, kind: SourceKindName): boolean {
  return sqlOf(kind).plainName.test(name);
}

export function quoteIdentifier(name: string, kind: SourceKindName): string {
  if (plainName(name, kind) && !RESERVED.has(name.toLowerCase())) return name;
  return sqlOf(kind).quoteIdentifier(name);
}

/**
 * `select` undefined: every column (`SELECT *`), as the table form does; the table form is
 * returned when the names can be written in it.
 */
export function loadSpec(table: Pick<TableInfo, 'kind' | 'schema' | 'name'>, keyColumn: string, select: readonly SelectColumn[] | undefined): LoadSpec {
  const { kind } = table;
  if (select === undefined && plainName(table.schema, kind) && plainName(table.name, kind)) {
    return { table: `${table.schema}.${table.name}` };
  }
  const columns =
    select === undefined
      ? '*'
      : select
          .map((s) => (s.alias === undefined || s.alias === s.column ? quoteIdentifier(s.column, kind) : `${quoteIdentifier(s.column, kind)} AS ${sqlOf(kind).quoteIdentifier(s.alias)}`))
          .join(', ');
  const from = `${quoteIdentifier(table.schema, kind)}.${quoteIdentifier(table.name, kind)}`;
  return { query: `SELECT ${columns}\nFROM ${from}\nWHERE ${sqlOf(kind).batchCondition(quoteIdentifier(keyColumn, kind))}` };
}

/**
 * A counter's source: the parent's rows LEFT JOINed to the child rows that name them, counted
 * per parent (0 for a parent with none), batched on the parent's key like any family query.
 */
export function counterQuery(parent: Pick<TableInfo, 'kind' | 'schema' | 'name'>, parentKey: string, child: Pick<TableInfo, 'schema' | 'name'>, childKey: string, countAs: string): string {
  const { kind } = parent;
  const q = (name: string) => quoteIdentifier(name, kind);
  const key = `p.${q(parentKey)}`;
  return [
    `SELECT ${key}, count(c.${q(childKey)}) AS ${q(countAs)}`,
    `FROM ${q(parent.schema)}.${q(parent.name)} p`,
    `LEFT JOIN ${q(child.schema)}.${q(child.name)} c ON c.${q(childKey)} = ${key}`,
    `WHERE ${sqlOf(kind).batchCondition(key)}`,
    `GROUP BY ${key}`,
  ].join('\n');
}
