/**
 * Column types from driver metadata: pg OIDs resolved through pg_type (recorded catalog rows),
 * mysql2 column definitions (recorded from MariaDB 10.11), and what a loader module declares.
 */
import { describe, expect, it } from 'vitest';
import { declaredColumnTypes } from '../../../src/sources/declared-columns.js';
import { mysqlColumnType } from '../../../src/sources/mysql/column-types.js';
import { PG_TYPE_SQL, PgColumnTypes } from '../../../src/sources/postgres/column-types.js';

/** pg_type rows as the server returns them for a schema with an enum, a domain and their arrays. */
const CATALOG: Record<number, Record<string, unknown>> = {
  90001: { oid: 90001, name: 'user_role', typtype: 'e', elem: 0, base: 0, category: 'E' },
  90002: { oid: 90002, name: 'user_role[]', typtype: 'b', elem: 90001, base: 0, category: 'A' },
  90003: { oid: 90003, name: 'positive_int', typtype: 'd', elem: 0, base: 23, category: 'N' },
  90004: { oid: 90004, name: 'positive_int[]', typtype: 'b', elem: 90003, base: 0, category: 'A' },
  90005: { oid: 90005, name: 'citext', typtype: 'b', elem: 0, base: 0, category: 'S' },
};

function recordingQuery() {
  const calls: number[][] = [];
  const query = async (sql: string, values: unknown[]) => {
    expect(sql).toBe(PG_TYPE_SQL);
    const oids = values[0] as number[];
    calls.push(oids);
    return oids.flatMap((oid) => (CATALOG[oid] === undefined ? [] : [CATALOG[oid]]));
  };
  return { calls, query };
}

describe('PostgreSQL column types', () => {
  it('knows built-ins without a lookup, arrays included', async () => {
    const { calls, query } = recordingQuery();
    const types = await new PgColumnTypes().of(
      [
        { name: 'id', dataTypeID: 20 },
        { name: 'score', dataTypeID: 700 },
        { name: 'at', dataTypeID: 1184 },
        { name: 'days', dataTypeID: 1182 },
      ],
      query,
    );
    expect(calls).toEqual([]);
    expect(types['id']?.kind).toBe('integer');
    expect(types['score']?.kind).toBe('float4');
    expect(types['at']?.kind).toBe('timestamptz');
    expect(types['days']).toMatchObject({ kind: 'array', element: { kind: 'date' } });
  });

  it('resolves enum and domain arrays through pg_type, each OID once', async () => {
    const { calls, query } = recordingQuery();
    const resolver = new PgColumnTypes();
    const fields = [
      { name: 'roles', dataTypeID: 90002 },
      { name: 'counts', dataTypeID: 90004 },
      { name: 'nick', dataTypeID: 90005 },
    ];
    const types = await resolver.of(fields, query);
    expect(types['roles']).toMatchObject({ kind: 'array', name: 'user_role[]', element: { kind: 'text', name: 'user_role' } });
    expect(types['counts']).toMatchObject({ kind: 'array', element: { kind: 'integer', name: 'positive_int' } });
    expect(types['nick']?.kind).toBe('text');
    const lookups = calls.length;
    await resolver.of(fields, query);
    expect(calls.length).toBe(lookups);
  });

  it('an OID the catalog does not know is compared generically', async () => {
    const { query } = recordingQuery();
    const types = await new PgColumnTypes().of([{ name: 'x', dataTypeID: 424242 }], query);
    expect(types['x']?.kind).toBe('other');
  });
});

describe('MySQL / MariaDB column types', () => {
  it('maps the protocol codes, with TINYINT(1), BIT(1), MariaDB JSON and binary strings apart', () => {
    expect(mysqlColumnType({ name: 'b', columnType: 1, columnLength: 1 }).kind).toBe('bool-int');
    expect(mysqlColumnType({ name: 'b', columnType: 1, columnLength: 4 }).kind).toBe('integer');
    expect(mysqlColumnType({ name: 'j', columnType: 252, columnLength: 4294967295, characterSet: 224, extendedFormat: 'json' }).kind).toBe('json');
    expect(mysqlColumnType({ name: 'j', columnType: 245 }).kind).toBe('json');
    expect(mysqlColumnType({ name: 't', columnType: 252, characterSet: 224 }).kind).toBe('text');
    expect(mysqlColumnType({ name: 'bl', columnType: 252, characterSet: 63 }).kind).toBe('bytes');
    expect(mysqlColumnType({ name: 'd', columnType: 12, decimals: 6 })).toEqual({ kind: 'timestamp', name: 'DATETIME(6)' });
    expect(mysqlColumnType({ name: 'ts', columnType: 7, decimals: 3 })).toEqual({ kind: 'timestamptz', name: 'TIMESTAMP(3)' });
    expect(mysqlColumnType({ name: 'f', columnType: 4 }).kind).toBe('float4');
    expect(mysqlColumnType({ name: 'dd', columnType: 5 }).kind).toBe('float8');
    expect(mysqlColumnType({ name: 'bi', columnType: 16, columnLength: 1 }).kind).toBe('boolean');
    expect(mysqlColumnType({ name: 'price', columnType: 246 }).kind).toBe('decimal');
  });
});

describe('column types a loader module declares', () => {
  it('accepts the short and the full forms', () => {
    expect(declaredColumnTypes({ price: 'decimal', roles: 'text[]', at: { kind: 'timestamptz', name: 'instant' } })).toEqual({
      columns: {
        price: { kind: 'decimal', name: 'decimal' },
        roles: { kind: 'array', name: 'text[]', element: { kind: 'text', name: 'text' } },
        at: { kind: 'timestamptz', name: 'instant' },
      },
    });
  });
  it('names the column whose declaration is wrong', () => {
    expect(declaredColumnTypes({ price: 'decimel' })).toEqual({ problem: expect.stringContaining('columns.price: "decimel" is not a column kind') });
    expect(declaredColumnTypes(['x'])).toHaveProperty('problem');
  });
});
