/**
 * A SQL loader's check() of one family, the same for every dialect: the zero-row read of its
 * statement, then (for `rows: many`) of its ranked statement, then each child's; the columns
 * returned in the wrapped shape the loaders' batches have (a collection's rows under `members`,
 * each child's under its name), for audit/rules-check.ts to check the rules' names against.
 */
import type { ColumnTypes } from '../core/column-type.js';
import type { FamilyRule } from '../core/rule.js';
import { childColumns, childRules } from './children.js';
import { rankedCheckApplies } from './many-rows-sql.js';
import type { ReadOnlyQueryGuard } from './read-only-query.js';
import { membersColumns } from './rows.js';

export interface FamilyCheckSteps {
  guard: ReadOnlyQueryGuard;
  /** The plain statement's columns (LIMIT 0); `wholeTable` for a child's table (its key is checked by name). */
  columns(rule: FamilyRule, wholeTable: boolean): Promise<ColumnTypes>;
  /** Runs the ranked statement LIMIT 0 (many-rows-sql.ts), failing the check when the server refuses it. */
  ranked(rule: FamilyRule): Promise<void>;
}

export async function checkFamily(rule: FamilyRule, steps: FamilyCheckSteps): Promise<ColumnTypes> {
  const columns = await steps.columns(rule, false);
  if (rule.many !== undefined && rankedCheckApplies(rule.many, rule.key, Object.keys(columns))) await steps.ranked(rule);
  const children: Record<string, ColumnTypes> = {};
  for (const child of childRules(rule)) {
    await steps.guard.require(child.rule, ['children', child.name, 'query']);
    const childColumnTypes = await steps.columns(child.rule, true);
    children[child.name] = childColumnTypes;
    if (rankedCheckApplies(child.rule.many ?? {}, child.rule.key, Object.keys(childColumnTypes))) await steps.ranked(child.rule);
  }
  return { ...(rule.many === undefined ? columns : membersColumns(columns)), ...childColumns(children) };
}
