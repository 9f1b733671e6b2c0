/**
 * MySQL / MariaDB result column types (core/column-type.ts) from mysql2's column definitions: the
 * protocol's type code, display length, flags and character set, plus MariaDB's extended format
 * (`json` for its JSON columns, which the protocol otherwise reports as LONGTEXT).
 */
import type { ColumnType, ColumnTypes } from '../../core/column-type.js';

/** The part of mysql2's column definition read here (structural: no mysql2 types leak out). */
export interface MysqlColumnDefinition {
  name: string;
  columnType?: number;
  columnLength?: number;
  decimals?: number;
  characterSet?: number;
  /** MariaDB's extended metadata: `json` for JSON columns. */
  extendedFormat?: string;
}

/** The `binary` character set: a string type holding it is bytes, not text. */
const BINARY_CHARSET = 63;

/** Protocol type codes (include/mysql_com.h `enum_field_types`). */
const TYPES: Readonly<Record<number, ColumnType>> = {
  0: { kind: 'decimal', name: 'DECIMAL' },
  246: { kind: 'decimal', name: 'DECIMAL' },
  2: { kind: 'integer', name: 'SMALLINT' },
  3: { kind: 'integer', name: 'INT' },
  8: { kind: 'integer', name: 'BIGINT' },
  9: { kind: 'integer', name: 'MEDIUMINT' },
  13: { kind: 'integer', name: 'YEAR' },
  4: { kind: 'float4', name: 'FLOAT' },
  5: { kind: 'float8', name: 'DOUBLE' },
  10: { kind: 'date', name: 'DATE' },
  14: { kind: 'date', name: 'DATE' },
  12: { kind: 'timestamp', name: 'DATETIME' },
  18: { kind: 'timestamp', name: 'DATETIME' },
  // The loader's sessions run in UTC, so a TIMESTAMP arrives as a UTC wall-clock time: an instant.
  7: { kind: 'timestamptz', name: 'TIMESTAMP' },
  17: { kind: 'timestamptz', name: 'TIMESTAMP' },
  245: { kind: 'json', name: 'JSON' },
  11: { kind: 'text', name: 'TIME' },
  247: { kind: 'text', name: 'ENUM' },
  248: { kind: 'text', name: 'SET' },
};

const STRING_TYPES: Readonly<Record<number, string>> = {
  15: 'VARCHAR',
  253: 'VARCHAR',
  254: 'CHAR',
  249: 'TINYBLOB',
  250: 'MEDIUMBLOB',
  251: 'LONGBLOB',
  252: 'BLOB',
};

const TINY = 1;
const BIT = 16;

export function mysqlColumnType(field: MysqlColumnDefinition): ColumnType {
  const code = field.columnType ?? -1;
  const length = field.columnLength ?? 0;
  if (field.extendedFormat === 'json') return { kind: 'json', name: 'JSON' };
  if (code === TINY) return length === 1 ? { kind: 'bool-int', name: 'TINYINT(1)' } : { kind: 'integer', name: 'TINYINT' };
  if (code === BIT) return length === 1 ? { kind: 'boolean', name: 'BIT(1)' } : { kind: 'bytes', name: `BIT(${length})` };
  const known = TYPES[code];
  if (known !== undefined) {
    const fsp = field.decimals ?? 0;
    // DATETIME(6) / TIMESTAMP(3): the fractional digits are part of the name users know.
    return (known.kind === 'timestamp' || known.kind === 'timestamptz') && fsp > 0 && fsp <= 6 ? { ...known, name: `${known.name}(${fsp})` } : known;
  }
  const stringName = STRING_TYPES[code];
  if (stringName !== undefined) {
    if (field.characterSet === BINARY_CHARSET) return { kind: 'bytes', name: stringName === 'VARCHAR' ? 'VARBINARY' : stringName === 'CHAR' ? 'BINARY' : stringName };
    return { kind: 'text', name: stringName.endsWith('BLOB') ? stringName.replace('BLOB', 'TEXT') : stringName };
  }
  return { kind: 'other', name: `type ${code}` };
}

export function mysqlColumnTypes(fields: readonly MysqlColumnDefinition[]): ColumnTypes {
  const out: Record<string, ColumnType> = {};
  for (const f of fields) out[f.name] = mysqlColumnType(f);
  return out;
}
