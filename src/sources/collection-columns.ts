/**
 * The rules' column names of `rows: many` families and `children:` checked against the columns a
 * loader's check() returned (their wrapped shape: a collection's rows under MEMBERS_FIELD, a
 * child's under its name, each a `rows` column with its own `columns`). A `member`, `score` or
 * `orderBy` column the source does not return would make every element compare as null, or the
 * loader's ORDER BY fail on every batch: a rules error (exit 2), like any other unknown name.
 */
import { MEMBERS_FIELD } from '../core/codec-collection.js';
import type { ColumnType, ColumnTypes } from '../core/column-type.js';
import type { FamilyRule, ManyRows } from '../core/rule.js';
import { childRule } from './children.js';
import { checkColumnNames, describeMissingColumn, type ColumnNameProblem } from './result-columns.js';

/** The names of the nested rows' columns, or undefined when `type` is not nested rows (a loader that does not wrap them). */
function nestedColumns(type: ColumnType | undefined): string[] | undefined {
  return type?.kind === 'rows' ? Object.keys(type.columns ?? {}) : undefined;
}

/**
 * Every unknown name of the family: the one-row names (result-columns.ts) against each element's
 * columns for `rows: many`, plus `member`, `score` and `orderBy`; for each child checked by the
 * loader, its `key`, `fields`, `exclude`, `member` and `orderBy` against the child's columns.
 */
export function checkFamilyColumns(rule: FamilyRule, columns: ColumnTypes): ColumnNameProblem[] {
  if (rule.many !== undefined) {
    const inner = nestedColumns(columns[MEMBERS_FIELD]) ?? Object.keys(columns);
    return [...checkColumnNames(rule, inner), ...checkManyNames(rule, rule.many, inner, [])];
  }
  const problems = checkColumnNames(rule, Object.keys(columns));
  for (const child of rule.children ?? []) {
    const inner = nestedColumns(columns[child.name]);
    // A loader that did not run the child (a module's check) has nothing to check it against.
    if (inner === undefined) continue;
    const asFamily = childRule(rule, child);
    const at = ['children', child.name];
    const have = new Set(inner);
    const check = (path: (string | number)[], name: string, what: string, fix: string): void => {
      if (have.has(name)) return;
      problems.push({ path: [...at, ...path], on: 'value', name, column: name, message: `child "${child.name}": ${describeMissingColumn(asFamily, inner, name, what, fix)}` });
    };
    child.key.forEach((name, i) => check(['key', i], name, `the key column "${name}"`, `set the child's "key" to the columns holding the parent's key`));
    child.fields?.forEach((name, i) => check(['fields', i], name, `"fields" lists "${name}", which`, 'fix the name or remove it from "fields"'));
    child.exclude?.forEach((name, i) => check(['exclude', i], name, `"exclude" lists "${name}", which`, 'fix the name or remove it from "exclude"'));
    problems.push(...checkManyNames(asFamily, child, inner, at).map((p) => ({ ...p, message: `child "${child.name}": ${p.message}` })));
  }
  return problems;
}

/** `member`, `score` and each `orderBy` column of a collection (or child) against its rows' columns. */
function checkManyNames(rule: FamilyRule, many: ManyRows, columns: readonly string[], at: (string | number)[]): ColumnNameProblem[] {
  const have = new Set(columns);
  const problems: ColumnNameProblem[] = [];
  const check = (path: string, name: string, what: string, fix: string): void => {
    if (!have.has(name)) problems.push({ path: [...at, path], on: 'value', name, column: name, message: describeMissingColumn(rule, columns, name, what, fix) });
  };
  if (many.member !== undefined) check('member', many.member, `"member" names "${many.member}", which`, 'fix "member"');
  if (many.score !== undefined) check('score', many.score, `"score" names "${many.score}", which`, 'fix "score"');
  for (const term of many.orderBy ?? []) check('orderBy', term.column, `"orderBy" names "${term.column}", which`, 'fix "orderBy"');
  return problems;
}
