/** The SQL of one PostgreSQL batch, from the rule's quoted names (never its raw text) and the batch's ids. */
import type { FamilyRule } from '../../core/rule.js';
import { idParts } from '../../core/source-key.js';
import { manyRowsSql, type OrderDialect } from '../many-rows-sql.js';
import { pgTableName, quotePgIdentifier } from './identifiers.js';

const PG_ORDER: OrderDialect = { quote: quotePgIdentifier, nullsClause: true };

/**
 * The family's own query with its parameters, or the batched SELECT over its table. One key
 * column: `$1` is the array of ids. Several: a query gets one array per column (`$1`, `$2`, ...,
 * parallel, in placeholder order, for `unnest`); the table form compares row constructors,
 * `(a, b) IN (($1, $2), ...)`, so each parameter takes its column's type and the index is used.
 * Throws on a malformed table name.
 */
export function batchStatement(rule: FamilyRule, ids: readonly string[]): { sql: string; values: unknown[] } {
  const statement = unorderedStatement(rule, ids);
  return rule.many === undefined ? statement : { ...statement, sql: manyRowsSql(statement.sql, rule.key, rule.many, PG_ORDER) };
}

/** The batch statement before a `rows: many` family's order and limit are applied. */
export function unorderedStatement(rule: FamilyRule, ids: readonly string[]): { sql: string; values: unknown[] } {
  const arity = rule.key.length;
  if (rule.table !== undefined) {
    const table = pgTableName(rule.table);
    if (arity === 1) return { sql: `SELECT * FROM ${table} WHERE ${quotePgIdentifier(rule.key[0] as string)} = ANY($1)`, values: [[...ids]] };
    const columns = `(${rule.key.map(quotePgIdentifier).join(', ')})`;
    if (ids.length === 0) return { sql: `SELECT * FROM ${table} WHERE ${columns} = (${rule.key.map(() => 'NULL').join(', ')})`, values: [] };
    const tuples = ids.map((_, i) => `(${rule.key.map((__, j) => `$${i * arity + j + 1}`).join(', ')})`);
    return { sql: `SELECT * FROM ${table} WHERE ${columns} IN (${tuples.join(', ')})`, values: ids.flatMap((id) => idParts(id, arity)) };
  }
  if (rule.query === undefined) throw new Error('the family has neither a query nor a table');
  if (arity === 1) return { sql: rule.query, values: [[...ids]] };
  const parts = ids.map((id) => idParts(id, arity));
  return { sql: rule.query, values: rule.key.map((_, j) => parts.map((p) => p[j])) };
}
