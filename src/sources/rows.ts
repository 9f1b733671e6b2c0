import type { FamilyRule } from '../core/rule.js';
import { rowId } from '../core/source-key.js';
import { UsageError } from '../errors.js';
import { SourceQueryError, type SourceBatch } from './types.js';

/**
 * Keys rows by the id their key columns spell (core/source-key.ts rowId), the form the captured id
 * has. Rows without a key value cannot answer any id and are dropped. When two rows carry one id,
 * the id is reported in `duplicateIds` (a fact: the core decides what it means, core/observe.ts);
 * throwing instead would hide every other key of the batch.
 */
export function toBatch(rows: readonly Record<string, unknown>[], columns: readonly string[], nowMs: number): SourceBatch {
  const byId = new Map<string, Record<string, unknown>>();
  let duplicates: Set<string> | undefined;
  for (const row of rows) {
    const id = rowId(row, columns);
    if (id === undefined) continue;
    if (byId.has(id)) {
      (duplicates ??= new Set()).add(id);
      continue;
    }
    byId.set(id, row);
  }
  const batch: SourceBatch = { rows: byId, nowMs };
  if (duplicates !== undefined) batch.duplicateIds = [...duplicates];
  return batch;
}

/** Columns the loaded rows must carry for the family to be judged, with the rule field naming each. */
export function requiredColumns(rule: FamilyRule): { column: string; role: string }[] {
  const out = rule.key.map((column) => ({ column, role: 'key' }));
  if (rule.updatedAt !== undefined) out.push({ column: rule.updatedAt, role: 'updatedAt' });
  if (rule.version !== undefined) out.push({ column: rule.version, role: 'version' });
  return out;
}

/** Drops a trailing `;` so the query can be wrapped in a subquery. */
export function stripTrailingSemicolons(query: string): string {
  return query.replace(/[\s;]+$/, '');
}

/** Clamps the loader options to values a server accepts (a 0 timeout would mean "none"). */
export function positiveInt(value: number, fallback: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

/** --recent needs the family's table and change-time column: it queries them directly. */
export function requireRecentColumns(rule: FamilyRule): { table: string; updatedAt: string } {
  if (rule.table === undefined || rule.updatedAt === undefined) {
    throw new UsageError(`family "${rule.name}": --recent needs \`table\` and \`updatedAt\` in the rule (a \`query\` cannot be searched by change time)`);
  }
  return { table: rule.table, updatedAt: rule.updatedAt };
}

/** Fails the batch when its result has no key column: every id would otherwise look absent (orphans everywhere). */
export function requireKeyColumn(rule: FamilyRule, columns: readonly string[]): void {
  const missing = rule.key.find((column) => !columns.includes(column));
  if (missing !== undefined) {
    throw new SourceQueryError(`family "${rule.name}": the query returns no key column "${missing}"; its columns are: ${columns.join(', ')}`, {
      timeout: false,
    });
  }
}

// What a batch means for one id (a duplicate id is `error/source-error`) is the core's decision:
// core/observe.ts. Re-exported for the callers that read a batch directly.
export { sourceReadOf } from '../core/observe.js';
