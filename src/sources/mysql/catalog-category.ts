import type { ColumnCategory } from '../../init/catalog.js';

/** information_schema.COLUMNS of MySQL/MariaDB: DATA_TYPE and COLUMN_TYPE (`tinyint(1)`). */
export function mysqlCategory(dataType: string, columnType: string): ColumnCategory {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) return 'boolean';
  if (t === 'bit' && /^bit\(1\)/i.test(columnType)) return 'boolean';
  if (/^(tinyint|smallint|mediumint|int|integer|bigint)$/.test(t)) return 'integer';
  if (/^(decimal|numeric|float|double|real)$/.test(t)) return 'decimal';
  if (/^(char|varchar|tinytext|text|mediumtext|longtext|enum|set)$/.test(t)) return 'text';
  if (t === 'uuid') return 'uuid';
  if (t === 'datetime' || t === 'timestamp') return 'timestamp';
  if (t === 'date') return 'date';
  if (t === 'json') return 'json';
  return 'other';
}
