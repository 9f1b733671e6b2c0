/**
 * How a family loads its rows: `table: schema.table` when the names are plain and the cached
 * fields are named as the columns are, otherwise a `query` that selects the columns under the
 * cached names (`monthly_api_limit AS "monthlyApiLimit"`), batched as the loaders expect
 * (`= ANY($1)` on PostgreSQL, `IN (?)` on MySQL).
 */
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

/** The table form's schema pattern (rules.schema.json); PostgreSQL folds unquoted names to lower case. */
function plainName(name: string, kind: SourceKindName): boolean {
  const shape = kind === 'postgres' ? /^[a-z_][a-z0-9_$]*$/ : /^[A-Za-z_][A-Za-z0-9_$]*$/;
  return shape.test(name);
}

export function quoteIdentifier(name: string, kind: SourceKindName): string {
  if (plainName(name, kind) && !RESERVED.has(name.toLowerCase())) return name;
  return kind === 'postgres' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``;
}

function quoteAlias(alias: string, kind: SourceKindName): string {
  return kind === 'postgres' ? `"${alias.replaceAll('"', '""')}"` : `\`${alias.replaceAll('`', '``')}\``;
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
          .map((s) => (s.alias === undefined || s.alias === s.column ? quoteIdentifier(s.column, kind) : `${quoteIdentifier(s.column, kind)} AS ${quoteAlias(s.alias, kind)}`))
          .join(', ');
  const from = `${quoteIdentifier(table.schema, kind)}.${quoteIdentifier(table.name, kind)}`;
  const where = kind === 'postgres' ? `${quoteIdentifier(keyColumn, kind)} = ANY($1)` : `${quoteIdentifier(keyColumn, kind)} IN (?)`;
  return { query: `SELECT ${columns}\nFROM ${from}\nWHERE ${where}` };
}
