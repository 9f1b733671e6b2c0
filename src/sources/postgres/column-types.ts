/**
 * PostgreSQL result column types (core/column-type.ts) from the driver's metadata: each field's
 * `dataTypeID` resolved through `pg_type`, so that arrays, enums, domains and other types that
 * node-postgres does not know are compared by what they are. A type's row never changes while
 * the server runs, so each OID is looked up once per loader.
 */
import type { ColumnKind, ColumnType, ColumnTypes } from '../../core/column-type.js';

/** The catalog facts one OID resolves to. */
interface PgTypeRow {
  oid: number;
  /** format_type(oid, NULL): `integer`, `user_role[]`, `public.money_amount`. */
  name: string;
  /** typtype: b base, d domain, e enum, c composite, r range, m multirange, p pseudo. */
  typtype: string;
  /** Element type of an array type (typcategory 'A'), else 0. */
  elem: number;
  /** Base type of a domain, else 0. */
  base: number;
  category: string;
}

/** Base types by their built-in OIDs: never looked up. */
const BUILTIN: ReadonlyMap<number, ColumnType> = new Map<number, ColumnType>([
  [20, { kind: 'integer', name: 'bigint' }],
  [21, { kind: 'integer', name: 'smallint' }],
  [23, { kind: 'integer', name: 'integer' }],
  [26, { kind: 'integer', name: 'oid' }],
  [1700, { kind: 'decimal', name: 'numeric' }],
  [700, { kind: 'float4', name: 'real' }],
  [701, { kind: 'float8', name: 'double precision' }],
  [16, { kind: 'boolean', name: 'boolean' }],
  [1082, { kind: 'date', name: 'date' }],
  [1114, { kind: 'timestamp', name: 'timestamp without time zone' }],
  [1184, { kind: 'timestamptz', name: 'timestamp with time zone' }],
  [114, { kind: 'json', name: 'json' }],
  [3802, { kind: 'json', name: 'jsonb' }],
  [25, { kind: 'text', name: 'text' }],
  [1043, { kind: 'text', name: 'character varying' }],
  [1042, { kind: 'text', name: 'character' }],
  [19, { kind: 'text', name: 'name' }],
  [2950, { kind: 'text', name: 'uuid' }],
  [17, { kind: 'bytes', name: 'bytea' }],
]);

/** Array types of the built-ins, by OID: element OID. */
const BUILTIN_ARRAYS: ReadonlyMap<number, number> = new Map([
  [1016, 20],
  [1005, 21],
  [1007, 23],
  [1028, 26],
  [1231, 1700],
  [1021, 700],
  [1022, 701],
  [1000, 16],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [199, 114],
  [3807, 3802],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [2951, 2950],
  [1001, 17],
]);

/** The SQL that describes a set of OIDs (bound as `$1`, an int4 array). */
export const PG_TYPE_SQL =
  'SELECT t.oid::int4 AS oid, format_type(t.oid, NULL) AS name, t.typtype::text AS typtype, ' +
  't.typelem::int4 AS elem, t.typbasetype::int4 AS base, t.typcategory::text AS category ' +
  'FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::int4[])';

export type PgTypeQuery = (sql: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** Resolves OIDs to column types, looking each unknown OID up once (domains and arrays recursively). */
export class PgColumnTypes {
  private readonly known = new Map<number, ColumnType>();

  /** The column types of a result's fields, looking up (with `query`) the OIDs not seen before. */
  async of(fields: readonly { name: string; dataTypeID: number }[], query: PgTypeQuery): Promise<ColumnTypes> {
    await this.resolve(
      fields.map((f) => f.dataTypeID),
      query,
    );
    const out: Record<string, ColumnType> = {};
    for (const f of fields) out[f.name] = this.typeOf(f.dataTypeID);
    return out;
  }

  /** The type of an OID already resolved (`other` when it could not be). */
  typeOf(oid: number): ColumnType {
    const builtin = BUILTIN.get(oid);
    if (builtin !== undefined) return builtin;
    const elem = BUILTIN_ARRAYS.get(oid);
    if (elem !== undefined) return arrayOf(this.typeOf(elem));
    return this.known.get(oid) ?? { kind: 'other', name: `oid ${oid}` };
  }

  private async resolve(oids: readonly number[], query: PgTypeQuery): Promise<void> {
    let pending = [...new Set(oids.filter((oid) => this.needsLookup(oid)))];
    // Domains over arrays over domains...: each round looks up what the previous one named.
    const rows = new Map<number, PgTypeRow>();
    for (let round = 0; pending.length > 0 && round < 8; round++) {
      for (const raw of await query(PG_TYPE_SQL, [pending])) {
        const row = toTypeRow(raw);
        rows.set(row.oid, row);
      }
      pending = [
        ...new Set(
          [...rows.values()].flatMap((r) => [r.elem, r.base]).filter((oid) => oid !== 0 && !rows.has(oid) && this.needsLookup(oid)),
        ),
      ];
    }
    for (const oid of rows.keys()) this.known.set(oid, this.build(oid, rows, 0));
  }

  private needsLookup(oid: number): boolean {
    return !BUILTIN.has(oid) && !BUILTIN_ARRAYS.has(oid) && !this.known.has(oid);
  }

  private build(oid: number, rows: ReadonlyMap<number, PgTypeRow>, depth: number): ColumnType {
    const known = this.needsLookup(oid) ? undefined : this.typeOf(oid);
    if (known !== undefined) return known;
    const row = rows.get(oid);
    if (row === undefined || depth > 8) return { kind: 'other', name: row?.name ?? `oid ${oid}` };
    if (row.category === 'A' && row.elem !== 0) return { ...arrayOf(this.build(row.elem, rows, depth + 1)), name: row.name };
    // A domain compares as its base type, under its own name.
    if (row.typtype === 'd' && row.base !== 0) return { ...this.build(row.base, rows, depth + 1), name: row.name };
    if (row.typtype === 'e') return { kind: 'text', name: row.name };
    return { kind: kindOfCategory(row.category), name: row.name };
  }
}

function arrayOf(element: ColumnType): ColumnType {
  return { kind: 'array', name: `${element.name}[]`, element };
}

/** Types outside the built-in list (extensions' types): only their category is known. */
function kindOfCategory(category: string): ColumnKind {
  // S string (citext, ...); everything else is compared by the generic, driver-aware rules.
  return category === 'S' ? 'text' : 'other';
}

function toTypeRow(raw: Record<string, unknown>): PgTypeRow {
  return {
    oid: Number(raw['oid']),
    name: String(raw['name']),
    typtype: String(raw['typtype']),
    elem: Number(raw['elem']),
    base: Number(raw['base']),
    category: String(raw['category']),
  };
}
