/**
 * Which columns play which part in a family: the compared fields, the version, the change time,
 * and the fields that look like personal data. All by name and type, so every pick is a guess.
 */
import type { ColumnInfo, TableInfo } from './catalog.js';
import { words } from './names.js';

const VERSION_NAMES = ['version', 'revision', 'lock_version', 'row_version', 'record_version', 'rev', 'optlock', 'version_number', 'seq'];
const UPDATED_NAMES = [
  'updated_at',
  'modified_at',
  'changed_at',
  'last_modified',
  'last_modified_at',
  'last_updated',
  'last_updated_at',
  'updated_on',
  'modified_on',
  'updated',
  'modified',
  'update_time',
  'modify_time',
  'mtime',
];
const PERSONAL = /(^|_)(e_?mail|phone|mobile|ssn|password|passwd|secret|token|address|street|birth|birthday|dob|iban|card|tax_id|national_id)(_|$)/;

/** The index in `names` of a column's snake_case name, or -1. */
function rank(column: ColumnInfo, names: readonly string[]): number {
  return names.indexOf(words(column.name).join('_'));
}

/** Fields that map to columns, and what the column plays. */
export interface FieldRoles {
  /** Cached field → column, for the fields the cache and the row share. */
  mapping: ReadonlyMap<string, string>;
  keyColumn: string;
}

/**
 * The version: an integer column named like one whose field the cache holds too (a version only
 * the source has cannot be compared). Returns the cached field and the column.
 */
export function pickVersion(table: TableInfo, roles: FieldRoles): { field: string; column: string } | { note: string } | undefined {
  const byColumn = new Map([...roles.mapping].map(([f, c]) => [c, f] as const));
  const named = table.columns
    .filter((c) => c.name !== roles.keyColumn && rank(c, VERSION_NAMES) !== -1)
    .sort((a, b) => rank(a, VERSION_NAMES) - rank(b, VERSION_NAMES));
  const usable = named.find((c) => c.category === 'integer' && byColumn.has(c.name));
  if (usable !== undefined) return { field: byColumn.get(usable.name) as string, column: usable.name };
  const [first] = named;
  if (first === undefined) return undefined;
  if (first.category !== 'integer') return { note: `column ${first.name} is named like a version but is ${first.dataType}, not an integer` };
  return { note: `column ${first.name} looks like a version, but the cached values do not hold it` };
}

/** The change time: a timestamp column named like one (updated_at, modified_at, ...). */
export function pickUpdatedAt(table: TableInfo): ColumnInfo | undefined {
  return table.columns
    .filter((c) => c.category === 'timestamp' && rank(c, UPDATED_NAMES) !== -1)
    .sort((a, b) => rank(a, UPDATED_NAMES) - rank(b, UPDATED_NAMES))[0];
}

/**
 * Compared fields: the cached fields that are columns, but not the key (it is what the row is
 * looked up by) nor the version (compared on its own).
 */
export function comparedFields(roles: FieldRoles, versionField: string | undefined): string[] {
  return [...roles.mapping]
    .filter(([field, column]) => column !== roles.keyColumn && field !== versionField)
    .map(([field]) => field);
}

/** Fields whose names suggest personal data: masked in reports. */
export function personalFields(fields: readonly string[]): string[] {
  return fields.filter((f) => PERSONAL.test(words(f).join('_')));
}
