/**
 * What a source says a result column holds, from the driver's own metadata (pg `fields[].dataTypeID`
 * resolved through `pg_type`; mysql2's column type, length, flags and decimals; or what a module
 * loader declares). The comparison of a field follows its column's type whatever form the cache
 * holds it in (ARCHITECTURE.md, "Normalization"); a normalizer declared in the rules still wins.
 * Pure data: the core never sees a driver.
 */
export type ColumnKind =
  /** Whole numbers: int2/4/8, MySQL TINYINT..BIGINT (but see `bool-int`). Compared as exact decimals. */
  | 'integer'
  /** numeric / DECIMAL: exact decimals. */
  | 'decimal'
  /** float8 / DOUBLE: IEEE doubles (a cached 17-digit form equals the double's shortest form). */
  | 'float8'
  /** float4 / FLOAT: both sides rounded to single precision first. */
  | 'float4'
  | 'boolean'
  /** MySQL TINYINT(1) (BOOLEAN): a boolean only while the stored value is 0 or 1, else an integer. */
  | 'bool-int'
  /** A calendar day: `YYYY-MM-DD`, or a timestamp at midnight of that day. */
  | 'date'
  /** A zone-less timestamp (pg `timestamp`, MySQL DATETIME): wall-clock time in the source's time zone. */
  | 'timestamp'
  /** An instant (pg `timestamptz`, MySQL TIMESTAMP). */
  | 'timestamptz'
  /** json / jsonb / MariaDB JSON: parsed losslessly, compared structurally. */
  | 'json'
  | 'text'
  /** bytea / BLOB / BINARY. */
  | 'bytes'
  /** An array of `element` (pg arrays, of any element type: enums and domains included). */
  | 'array'
  /** Anything else: compared by the driver-aware rules of compare.ts (valuesEqual). */
  | 'other'
  /**
   * Rows of another query nested in this field (`rows: many`, `children:`): an array of records,
   * each column of its own type (`columns`), compared as a collection (core/collection-diff.ts).
   */
  | 'rows';

export interface ColumnType {
  kind: ColumnKind;
  /** The database's own name for the type, for messages and `explain` (`int8`, `DATETIME(6)`, `role[]`). */
  name: string;
  /** For `array`: the element type. */
  element?: ColumnType;
  /** For `rows`: the nested rows' columns. */
  columns?: ColumnTypes;
}

/** The result columns of a batch or of a zero-row check, by name, in the order the source returns them. */
export type ColumnTypes = Readonly<Record<string, ColumnType>>;

export const OTHER_COLUMN: ColumnType = { kind: 'other', name: 'unknown' };
