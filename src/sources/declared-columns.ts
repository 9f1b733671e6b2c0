/**
 * Column types a loader module declares with its batches (`columns` beside `rows`), in the short
 * form a user writes (`{ price: 'decimal', seen_at: 'timestamptz', roles: 'text[]' }`) or the
 * full one (`{ kind: 'decimal', name: 'numeric(10,2)' }`). Checked here so a typo is an error
 * naming the column, never a silently generic comparison.
 */
import type { ColumnKind, ColumnType, ColumnTypes } from '../core/column-type.js';

export const COLUMN_KINDS: readonly ColumnKind[] = [
  'integer',
  'decimal',
  'float8',
  'float4',
  'boolean',
  'bool-int',
  'date',
  'timestamp',
  'timestamptz',
  'json',
  'text',
  'bytes',
  'array',
  'other',
];

function isKind(text: string): text is ColumnKind {
  return (COLUMN_KINDS as readonly string[]).includes(text);
}

function typeOf(value: unknown): ColumnType | string {
  if (typeof value === 'string') {
    if (value.endsWith('[]')) {
      const element = typeOf(value.slice(0, -2));
      return typeof element === 'string' ? element : { kind: 'array', name: value, element };
    }
    return isKind(value) && value !== 'array' ? { kind: value, name: value } : `"${value}" is not a column kind (${COLUMN_KINDS.join(', ')}; "kind[]" for an array)`;
  }
  if (typeof value === 'object' && value !== null) {
    const { kind, name, element } = value as { kind?: unknown; name?: unknown; element?: unknown };
    if (typeof kind !== 'string' || !isKind(kind)) return `kind ${JSON.stringify(kind)} is not one of ${COLUMN_KINDS.join(', ')}`;
    const out: ColumnType = { kind, name: typeof name === 'string' ? name : kind };
    if (kind === 'array') {
      const inner = element === undefined ? { kind: 'other' as const, name: 'unknown' } : typeOf(element);
      if (typeof inner === 'string') return inner;
      out.element = inner;
    }
    return out;
  }
  return `${JSON.stringify(value)} is not a column kind`;
}

/** The declared types, or a sentence saying which column's declaration is wrong. */
export function declaredColumnTypes(value: unknown): { columns: ColumnTypes } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'columns is not an object of column name to kind' };
  const columns: Record<string, ColumnType> = {};
  for (const [name, declared] of Object.entries(value)) {
    const type = typeOf(declared);
    if (typeof type === 'string') return { problem: `columns.${name}: ${type}` };
    columns[name] = type;
  }
  return { columns };
}
