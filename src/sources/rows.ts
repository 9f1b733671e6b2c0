import { MEMBERS_FIELD } from '../core/codec-collection.js';
import type { ColumnType, ColumnTypes } from '../core/column-type.js';
import type { FamilyRule } from '../core/rule.js';
import { RANK_COLUMN } from '../core/collection-order.js';
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

// The rank column the loaders' RANK() ≤ limit wrapper adds (many-rows-sql.ts): the core reads it
// (as a non-enumerable property) for the database's own ties; nothing compares or shows it.
export { RANK_COLUMN } from '../core/collection-order.js';

type Row = Record<string, unknown>;

/**
 * `rows: many`: the rows of a batch grouped by the id their key columns spell, each id's rows
 * under MEMBERS_FIELD in the order the query returned them (the loaders sort by key, then
 * `orderBy`). An id with no row is absent; a row without a key value answers no id and is
 * dropped; the rank helper column is hidden (non-enumerable, for the core's ties). Shared by every loader (SQL and module), so a
 * collection's source side has one shape whichever source it comes from.
 */
export function toGroups(rows: readonly Row[], columns: readonly string[], nowMs: number): SourceBatch {
  const byId = new Map<string, Row>();
  for (const [id, members] of groupRows(rows, columns)) byId.set(id, { [MEMBERS_FIELD]: members });
  return { rows: byId, nowMs };
}

/** The rows of each id, in the order given, the rank helper column hidden. */
export function groupRows(rows: readonly Row[], columns: readonly string[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const id = rowId(row, columns);
    if (id === undefined) continue;
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = []));
    group.push(withoutRank(row));
  }
  return groups;
}

function withoutRank(row: Row): Row {
  if (!Object.hasOwn(row, RANK_COLUMN)) return row;
  const { [RANK_COLUMN]: rank, ...rest } = row;
  Object.defineProperty(rest, RANK_COLUMN, { value: rank, enumerable: false });
  return rest;
}

/** A field holding nested rows (`rows: many`'s members, a child's rows), typed by their own columns without the rank helper. */
export function rowsColumn(columns: ColumnTypes): ColumnType {
  const { [RANK_COLUMN]: _rank, ...rest } = columns;
  return { kind: 'rows', name: 'rows', columns: rest };
}

/** A `rows: many` batch's column types: the key's rows under MEMBERS_FIELD. */
export function membersColumns(columns: ColumnTypes): ColumnTypes {
  return { [MEMBERS_FIELD]: rowsColumn(columns) };
}

/**
 * `children:`: sets `row[name]` on every parent row of the batch to its child rows (`[]` when it
 * has none) and types that field as nested rows. Parent rows are copied, never changed in place.
 */
export function attachChildren(batch: SourceBatch, name: string, children: ReadonlyMap<string, Row[]>, columns: ColumnTypes | undefined): SourceBatch {
  const rows = new Map<string, Row>();
  for (const [id, row] of batch.rows) rows.set(id, { ...row, [name]: children.get(id) ?? [] });
  return { ...batch, rows, ...(columns === undefined ? {} : { columns: { ...batch.columns, [name]: rowsColumn(columns) } }) };
}
