import type { FamilyRule } from '../core/rule.js';
import { rowId } from '../core/source-key.js';
import { UsageError } from '../errors.js';
import type { SourceRead } from '../core/observation.js';
import { SourceQueryError, type SourceBatch } from './types.js';

/**
 * Keys rows by the id their key columns spell (core/source-key.ts rowId), the form the captured id
 * has. Rows without a key value cannot answer any id and are dropped. When two rows carry one id the first wins and the id is noted:
 * the family's query does not identify a single row, and a crash would hide every other key.
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

/**
 * What a batch says about one id. An id with several rows is an error, not the first row: the
 * family's key does not identify one row (a column of a composite key, a join that fans out), and
 * judging whichever row came first would report a correct entry as divergent.
 */
export function sourceReadOf(batch: SourceBatch, rule: Pick<FamilyRule, 'key'>, id: string): SourceRead {
  if (batch.duplicateIds !== undefined && batch.duplicateIds.includes(id)) {
    const columns = rule.key.length === 1 ? `column ${rule.key[0] as string}` : `columns ${rule.key.join(', ')}`;
    return {
      kind: 'error',
      message: `the source returned more than one row for this id: the key ${columns} does not identify one row (a composite key needs every column, like key: [tenant_id, id]; a join must not fan out)`,
      timeout: false,
    };
  }
  const failed = batch.failedIds?.get(id);
  if (failed !== undefined) return { kind: 'error', message: failed, timeout: false };
  const row = batch.rows.get(id);
  if (row === undefined) return { kind: 'absent' };
  return batch.columns === undefined ? { kind: 'row', row } : { kind: 'row', row, columns: batch.columns };
}
