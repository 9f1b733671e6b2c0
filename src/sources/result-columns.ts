import { closestMatch } from '../config/suggest.js';
import type { FamilyRule } from '../core/rule.js';
import { requiredColumns } from './rows.js';

/** A name of the rules that is not a result column, with where it sits in the family's entry. */
export interface ColumnNameProblem {
  /** Path inside the family's entry: `['fields', 1]`, `['key', 0]`, `['version']`, `['normalize', 'meta.at']`. */
  path: (string | number)[];
  /** `key`: the problem is about the mapping key at `path` (a `normalize:` entry's name). */
  on: 'key' | 'value';
  /** The name as written in the rules (`meta.at`). */
  name: string;
  /** The column it must be (`meta`: a normalize path's top-level field). */
  column: string;
  message: string;
}

/** At most this many columns are listed in one message; a wide table would drown the problem. */
const MAX_LISTED = 40;

/**
 * Every name the rules give for a family's source columns (`key`, `updatedAt`, `version`,
 * `fields`, `exclude`, `normalize` with paths reduced to their top-level field, `tolerance`) that is not one of
 * the source's result columns. A name that is not a column compares as null on the source side:
 * with a cache that lacks it too, null equals null and the family passes while comparing nothing.
 * Pure: the caller gets the columns from the loader's zero-row check.
 */
export function checkColumnNames(rule: FamilyRule, columns: readonly string[]): ColumnNameProblem[] {
  const have = new Set(columns);
  const problems: ColumnNameProblem[] = [];
  type At = Pick<ColumnNameProblem, 'path' | 'name'> & Partial<Pick<ColumnNameProblem, 'on' | 'column'>>;
  const check = (at: At, what: string, fix: string): void => {
    const column = at.column ?? at.name;
    if (have.has(column)) return;
    problems.push({ on: 'value', ...at, column, message: describeMissingColumn(rule, columns, column, what, fix) });
  };

  // Key, updatedAt and version: the columns the loader needs to judge at all (rows.ts).
  for (const { column, role } of requiredColumns(rule)) {
    if (role === 'key') {
      const defaulted = rule.key.length === rule.pattern.placeholders.length && rule.key.every((k, i) => k === rule.pattern.placeholders[i]);
      const fix = defaulted ? `"key" defaults to the pattern's placeholder names; set "key" to the column that holds {${column}}` : 'fix "key"';
      check({ path: ['key', rule.key.indexOf(column)], name: column }, `the key column "${column}"`, fix);
    } else {
      check({ path: [role], name: column }, `"${role}" names "${column}", which`, `fix "${role}"`);
    }
  }
  const selectIt = rule.table === undefined ? 'select it in the query (or alias a column to it) or remove it' : 'fix the name or remove it';
  rule.fields?.forEach((name, i) => check({ path: ['fields', i], name }, `"fields" lists "${name}", which`, `${selectIt} from "fields"`));
  rule.exclude?.forEach((name, i) => check({ path: ['exclude', i], name }, `"exclude" lists "${name}", which`, 'fix the name or remove it from "exclude"'));
  for (const name of Object.keys(rule.normalize)) {
    check({ path: ['normalize', name], on: 'key', name }, `"normalize" names "${name}", which`, 'fix the name');
  }
  // A misspelled `tolerance` name would leave the counter it meant exact, silently. (A family with
  // children may name its children's columns too, which the child checks do not see here.)
  if (rule.children === undefined) {
    for (const name of Object.keys(rule.tolerance ?? {})) {
      if (name !== '*') check({ path: ['tolerance', name], on: 'key', name }, `"tolerance" names "${name}", which`, 'fix the name');
    }
  }
  // A path (`meta.at`, `items[].at`) needs its top-level field; what is inside a value is the cache's business.
  for (const [column, paths] of Object.entries(rule.normalizePaths ?? {})) {
    for (const { path: name } of paths) check({ path: ['normalize', name], on: 'key', name, column }, `"normalize" names "${name}", whose field "${column}"`, 'fix the name');
  }
  return problems;
}

/** `<what> is not a column <the table/query> returns; <advice>. Its columns are: …`, as every unknown-name message says it. */
export function describeMissingColumn(rule: Pick<FamilyRule, 'table'>, columns: readonly string[], column: string, what: string, fix: string): string {
  const source = rule.table === undefined ? 'the query' : `the table ${rule.table}`;
  const sameButCase = columns.find((c) => c.toLowerCase() === column.toLowerCase());
  const suggestion = sameButCase ?? closestMatch(column, columns);
  const advice = suggestion === undefined ? fix : `did you mean "${suggestion}"?${sameButCase === undefined ? '' : ' (names are case-sensitive)'}`;
  const listed =
    columns.length === 0 ? 'none' : columns.slice(0, MAX_LISTED).join(', ') + (columns.length > MAX_LISTED ? `, … (${columns.length - MAX_LISTED} more)` : '');
  return `${what} is not a column ${source} returns; ${advice}${advice.endsWith('?') ? '' : '.'} Its columns are: ${listed}`;
}
