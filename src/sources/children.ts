/**
 * `children:` (documents built from several tables) as the SQL loaders run them: each child query
 * is run like a `rows: many` family of its own (its table or query, its `key` columns holding the
 * parent's key values, its orderBy and limit), for the ids of the batch that have a parent row.
 */
import type { ColumnTypes } from '../core/column-type.js';
import type { ChildQuery, FamilyRule } from '../core/rule.js';
import { rowsColumn } from './rows.js';

export interface ChildRule {
  /** The parent document's field that holds the child's rows. */
  name: string;
  /** The child query as a family of its own, so the loaders' statements, guards and checks apply unchanged. */
  rule: FamilyRule;
}

/**
 * A child query as a `rows: many` family: its own table or query, key, order and limit; named
 * `<family>.children.<child>`, as in the rules file, so that its errors say which query failed.
 */
export function childRule(rule: FamilyRule, child: ChildQuery): FamilyRule {
  const { table: _table, query: _query, children: _children, many: _many, fields: _fields, exclude: _exclude, version: _version, updatedAt: _updatedAt, ...parent } = rule;
  const { name, key, table, query, fields, exclude, ...many } = child;
  return {
    ...parent,
    name: `${rule.name}.children.${name}`,
    key,
    many,
    ...(table === undefined ? {} : { table }),
    ...(query === undefined ? {} : { query }),
    ...(fields === undefined ? {} : { fields }),
    ...(exclude === undefined ? {} : { exclude }),
  };
}

/** The family's child queries, each as a family (childRule). None for a `rows: many` family: its members have no children. */
export function childRules(rule: FamilyRule): ChildRule[] {
  if (rule.many !== undefined) return [];
  return (rule.children ?? []).map((child) => ({ name: child.name, rule: childRule(rule, child) }));
}

/** Each child's columns as a nested-rows field of the parent. */
export function childColumns(children: Readonly<Record<string, ColumnTypes>>): ColumnTypes {
  return Object.fromEntries(Object.entries(children).map(([name, columns]) => [name, rowsColumn(columns)]));
}
