/** The SQL of one MySQL batch and of its zero-row check, from the rule's quoted names (never its raw text). */
import type { FamilyRule } from '../../core/rule.js';
import { errorMessage, SourceCheckError } from '../errors.js';
import { manyRowsSql, type OrderDialect } from '../many-rows-sql.js';
import { stripTrailingSemicolons } from '../rows.js';
import { mysqlTableName, quoteMysqlIdentifier } from './identifiers.js';

/** MySQL and MariaDB have no NULLS FIRST/LAST: `col IS NULL` orders the NULLs (many-rows-sql.ts). */
const MYSQL_ORDER: OrderDialect = { quote: quoteMysqlIdentifier, nullsClause: false };

/** The batch statement: the family's query or its table's SELECT, `rows: many` ordered and ranked (many-rows-sql.ts). */
export function batchSql(rule: FamilyRule): string {
  const sql = unorderedSql(rule);
  return rule.many === undefined ? sql : manyRowsSql(sql, rule.key, rule.many, MYSQL_ORDER);
}

/** The batch statement before a `rows: many` family's order and limit are applied. */
export function unorderedSql(rule: FamilyRule): string {
  if (rule.table !== undefined) {
    const columns = rule.key.length === 1 ? quoteMysqlIdentifier(rule.key[0] as string) : `(${rule.key.map(quoteMysqlIdentifier).join(', ')})`;
    return `SELECT * FROM ${mysqlTableName(rule.table)} WHERE ${columns} IN (?)`;
  }
  if (rule.query !== undefined) return rule.query;
  throw new Error('the family has neither a query nor a table');
}

/**
 * The zero-row check's SQL (LIMIT 0: parsed and typed, but no row is read); its one `?` takes the
 * batch. A query is wrapped so that its own ORDER BY/LIMIT stay valid (the newline ends a trailing
 * `--` comment). `wholeTable`: a child's table without its WHERE (see the loader's checkColumns).
 * Throws SourceCheckError when the query has no or several `?` (counted by mysql2's formatter).
 */
export function checkStatement(rule: FamilyRule, placeholderCount: (sql: string) => number, wholeTable: boolean): string {
  try {
    const sql = unorderedSql(rule);
    if (rule.table !== undefined) return wholeTable ? `SELECT * FROM ${mysqlTableName(rule.table)} LIMIT 0` : `${sql} LIMIT 0`;
    const count = placeholderCount(sql);
    if (count !== 1) {
      throw new Error(
        count === 0
          ? 'the query has no ? placeholder; the batch of ids is expanded into its one ?, e.g. WHERE id IN (?)'
          : `the query has ${count} ? placeholders; exactly one (the batch of ids, e.g. IN (?)) is expected`,
      );
    }
    return `SELECT * FROM (\n${stripTrailingSemicolons(sql)}\n) AS shadowcheck_check LIMIT 0`;
  } catch (error) {
    const pgStyle = rule.query !== undefined && /=\s*ANY\s*\(\s*\$1\s*\)/i.test(rule.query);
    throw new SourceCheckError(rule.name, errorMessage(error), {
      ...(pgStyle ? { hint: 'mysql queries receive the batch through one ?: write WHERE id IN (?) instead of = ANY($1)' } : {}),
      cause: error,
    });
  }
}
