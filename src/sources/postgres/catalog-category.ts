import type { ColumnCategory } from '../../init/catalog.js';

/** information_schema.columns.data_type (or udt_name) of PostgreSQL, to a category. */
export function pgCategory(dataType: string): ColumnCategory {
  const t = dataType.toLowerCase();
  if (/^(smallint|integer|bigint|int2|int4|int8|smallserial|serial|bigserial)$/.test(t)) return 'integer';
  if (/^(numeric|decimal|real|double precision|float4|float8|money)$/.test(t)) return 'decimal';
  if (t === 'uuid') return 'uuid';
  if (/^(text|character varying|varchar|character|char|bpchar|citext|name)$/.test(t)) return 'text';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t === 'date') return 'date';
  if (t === 'boolean' || t === 'bool') return 'boolean';
  if (t === 'json' || t === 'jsonb') return 'json';
  return 'other';
}
