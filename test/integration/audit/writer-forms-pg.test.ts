/**
 * Issue 13, part 1 (PostgreSQL): values cached by non-JS services compare by the source column's
 * type with no `normalize:`. One table with a column per type, rows cached as JSON strings (json
 * codec) by a Python, a Go, a Java and a PHP service, and as hashes of strings by redis-py and
 * go-redis. Every equal value is a `match`; a copy where exactly one digit, day or flag differs is
 * `divergent/no-ttl` (no expiry, so the verdict does not depend on timing) naming only that field.
 *
 * The cached values are checked-in literals, each commented with the writer call that produces it
 * (checked with python3 3.11 and OpenJDK 17 when written; Go and PHP forms from their documented
 * formatting). Literals keep the test independent of other languages being installed.
 *
 * Isolation: a private redis-server (no shared database touched), a throwaway `sc_<hex>` schema and
 * a temp dir for the rules file; all removed afterwards. One CLI run.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, startRedisServer, type RedisServer, type TestDb } from '../helpers/redis.js';
import { divergentOn, jsonText, outcome, withFragment, withHashField, type JsonFragments } from '../helpers/writer-forms.js';

const COLUMNS = ['big', 'amount', 'dbl', 'flt', 'flag', 'day', 'ts', 'tstz', 'doc', 'raw', 'roles', 'prices', 'ints', 'bin'] as const;
type Column = (typeof COLUMNS)[number];
/** A row as PostgreSQL input text, one value per column. */
type Row = Record<Column, string>;

const BASE: Row = {
  big: '9007199254740993', // 2^53 + 1
  amount: '12345678901234.123456', // 20 significant digits: no double holds it
  dbl: '-37.5567082',
  flt: '0.1',
  flag: 'true',
  day: '2024-02-29',
  ts: '2024-05-01 10:00:00.123456',
  tstz: '2024-05-01 10:00:00.123456+00',
  doc: '{"id": 12345678901234567890, "tags": ["a", "b"], "price": 19.90}',
  raw: '{"n": 9007199254740993, "nested": {"k": [1, 2.5e3]}}',
  roles: '{viewer,editor}',
  prices: '{1.50,2.00}',
  ints: '{1,2,3}',
  bin: '\\x0001feff',
};

interface Writer {
  row: Row;
  json: JsonFragments;
}

/** JSON strings (json codec), keyed by writer. */
const JSON_WRITERS: Record<'python' | 'go' | 'java' | 'php', Writer> = {
  // Python 3 + psycopg 3 (session TimeZone Europe/Paris): json.dumps(row, default=enc) with enc
  // giving datetime/date .isoformat(), Decimal str(), bytes base64.b64encode().
  python: {
    row: BASE,
    json: [
      ['id', '1'],
      ['big', '9007199254740993'], // Python int: exact
      ['amount', '"12345678901234.123456"'], // str(Decimal)
      ['dbl', '-37.5567082'], // repr(float)
      ['flt', '0.1'],
      ['flag', 'true'],
      ['day', '"2024-02-29"'], // date.isoformat()
      ['ts', '"2024-05-01T10:00:00.123456"'], // naive datetime.isoformat(): microseconds, no zone
      ['tstz', '"2024-05-01T12:00:00.123456+02:00"'], // aware datetime.isoformat()
      ['doc', '{"id": 12345678901234567890, "price": 19.9, "tags": ["a", "b"]}'], // json.dumps(json.loads(...))
      ['raw', '{"n": 9007199254740993, "nested": {"k": [1, 2500.0]}}'],
      ['roles', '["viewer", "editor"]'],
      ['prices', '["1.50", "2.00"]'], // str() of each Decimal
      ['ints', '[1, 2, 3]'],
      ['bin', '"AAH+/w=="'], // base64.b64encode(b"\x00\x01\xfe\xff")
    ],
  },
  // Go encoding/json of a struct scanned by pgx: time.Time marshals as RFC 3339 nano with trailing
  // zeros trimmed; a real scanned into float64 is float64(float32(0.1)); []byte as base64;
  // jsonb/json as json.RawMessage (the server's text, compacted); pgtype.Numeric as a JSON number.
  go: {
    row: { ...BASE, ts: '2024-05-01 10:00:00.1234', tstz: '2024-05-01 10:00:00.5+00' },
    json: [
      ['id', '2'],
      ['big', '9007199254740993'],
      ['amount', '12345678901234.123456'],
      ['dbl', '-37.5567082'], // strconv 'g', -1
      ['flt', '0.10000000149011612'], // float64(float32(0.1))
      ['flag', 'true'],
      ['day', '"2024-02-29T00:00:00Z"'], // time.Time of a date: midnight UTC
      ['ts', '"2024-05-01T10:00:00.1234Z"'], // RFC3339Nano of .123400: zeros trimmed
      ['tstz', '"2024-05-01T12:00:00.5+02:00"'], // RFC3339Nano in Europe/Paris
      ['doc', '{"id":12345678901234567890,"tags":["a","b"],"price":19.90}'],
      ['raw', '{"n":9007199254740993,"nested":{"k":[1,2.5e3]}}'],
      ['roles', '["viewer","editor"]'],
      ['prices', '[1.5,2]'], // []float64
      ['ints', '[1,2,3]'],
      ['bin', '"AAH+/w=="'],
    ],
  },
  // Java: Jackson ObjectMapper + JavaTimeModule, defaults (WRITE_DATES_AS_TIMESTAMPS), of a JDBC
  // row: java.sql.Date/Timestamp as epoch ms (JVM in UTC), Instant as decimal epoch seconds with
  // nanos, BigDecimal.toString(), Double.toString(12345678.9) = 1.23456789E7, a float column read
  // with getFloat() into a double field = 1.100000023841858, byte[] as base64.
  java: {
    row: { ...BASE, amount: '100', dbl: '12345678.9', flt: '1.1', flag: 'false' },
    json: [
      ['id', '3'],
      ['big', '9007199254740993'],
      ['amount', '100.000000'], // BigDecimal of numeric(20,6)
      ['dbl', '1.23456789E7'],
      ['flt', '1.100000023841858'], // (double) 1.1f
      ['flag', 'false'],
      ['day', '1709164800000'], // java.sql.Date.valueOf("2024-02-29").getTime()
      ['ts', '1714557600123'], // Timestamp.getTime(): milliseconds of .123456
      ['tstz', '1714557600.123456000'], // Instant, WRITE_DATE_TIMESTAMPS_AS_NANOSECONDS
      ['doc', '{"id":12345678901234567890,"tags":["a","b"],"price":19.9}'], // JsonNode (BigIntegerNode)
      ['raw', '{"n":9007199254740993,"nested":{"k":[1,2500.0]}}'],
      ['roles', '["viewer","editor"]'],
      ['prices', '[1.50,2.00]'], // BigDecimal[]
      ['ints', '[1,2,3]'],
      ['bin', '"AAH+/w=="'], // Base64.getEncoder() / Jackson byte[]
    ],
  },
  // PHP 7.0, pgsql extension: pg_fetch_assoc gives every column as text ("t"/"f", bytea as \x hex,
  // json as its text); floats cast with (float) and json_encode'd at serialize_precision = 17;
  // `ts` as date('Y-m-d H:i:s', ...); `tstz` as json_encode(new DateTime(..., Europe/Paris)).
  php: {
    row: BASE,
    json: [
      ['id', '"4"'],
      ['big', '"9007199254740993"'],
      ['amount', '"12345678901234.123456"'],
      ['dbl', '-37.556708200000003'], // 17 significant digits ('%.17g' % -37.5567082)
      ['flt', '0.10000000000000001'], // (float) "0.1" at 17 digits
      ['flag', '"t"'],
      ['day', '"2024-02-29"'],
      ['ts', '"2024-05-01 10:00:00"'], // date('Y-m-d H:i:s'): whole seconds
      ['tstz', '{"date":"2024-05-01 12:00:00.123456","timezone_type":3,"timezone":"Europe\\/Paris"}'],
      ['doc', '"{\\"id\\": 12345678901234567890, \\"tags\\": [\\"a\\", \\"b\\"], \\"price\\": 19.90}"'], // jsonb text in a string
      ['raw', '"{\\"n\\": 9007199254740993, \\"nested\\": {\\"k\\": [1, 2.5e3]}}"'],
      ['roles', '["viewer","editor"]'],
      ['prices', '["1.50","2.00"]'],
      ['ints', '["1","2","3"]'],
      ['bin', '"\\\\x0001feff"'], // bytea as pg's \x hex text
    ],
  },
};

type HashValue = Record<'id' | Column, string | Buffer>;

/** Hashes (every field a string), keyed by writer. */
const HASH_WRITERS: Record<'redispy' | 'goredis', { row: Row; hash: HashValue }> = {
  // redis-py: r.hset(key, mapping=...) of the psycopg row: ints and floats via repr, str(True),
  // str(datetime) (space separator), Decimal via str, JSON columns json.dumps'd, bytes stored raw.
  redispy: {
    row: BASE,
    hash: {
      id: '11',
      big: '9007199254740993',
      amount: '12345678901234.123456',
      dbl: '-37.5567082',
      flt: '0.1',
      flag: 'True',
      day: '2024-02-29',
      ts: '2024-05-01 10:00:00.123456',
      tstz: '2024-05-01 12:00:00.123456+02:00',
      doc: '{"id": 12345678901234567890, "price": 19.9, "tags": ["a", "b"]}',
      raw: '{"n": 9007199254740993, "nested": {"k": [1, 2500.0]}}',
      roles: '["viewer", "editor"]',
      prices: '["1.50", "2.00"]',
      ints: '[1, 2, 3]',
      bin: Buffer.from([0x00, 0x01, 0xfe, 0xff]),
    },
  },
  // go-redis v9 HSet of the values the service wrote to the database: bools as "1"/"0", float64
  // via strconv 'f' -1, time.Time as RFC3339Nano (time.Now() nanoseconds: pgx truncated them to
  // microseconds in the row), []byte raw, json.RawMessage raw, slices json.Marshal'd.
  goredis: {
    row: BASE,
    hash: {
      id: '12',
      big: '9007199254740993',
      amount: '12345678901234.123456',
      dbl: '-37.5567082',
      flt: '0.10000000149011612',
      flag: '1',
      day: '2024-02-29T00:00:00Z',
      ts: '2024-05-01T10:00:00.123456789Z',
      tstz: '2024-05-01T10:00:00.123456789Z',
      doc: '{"id":12345678901234567890,"tags":["a","b"],"price":19.90}',
      raw: '{"n":9007199254740993,"nested":{"k":[1,2.5e3]}}',
      roles: '["viewer","editor"]',
      prices: '[1.5,2]',
      ints: '[1,2,3]',
      bin: Buffer.from([0x00, 0x01, 0xfe, 0xff]),
    },
  },
};

/** One value per case changed by one digit, day or flag: [writer, field, changed JSON text]. */
const JSON_CHANGES: [keyof typeof JSON_WRITERS, Column, string][] = [
  ['python', 'big', '9007199254740992'], // the same double as 2^53 + 1
  ['go', 'amount', '12345678901234.123457'],
  ['php', 'dbl', '-37.556708200000013'], // a different double (…003 and …004 are the same one)
  ['go', 'flt', '0.10000001149011612'], // rounds to another single
  ['php', 'flag', '"f"'],
  ['java', 'flag', 'true'],
  ['java', 'day', '1709251200000'], // 2024-03-01
  ['go', 'day', '"2024-02-28T00:00:00Z"'],
  ['python', 'ts', '"2024-05-01T10:00:00.123457"'],
  ['go', 'ts', '"2024-05-01T10:00:00.1235Z"'],
  ['php', 'ts', '"2024-05-01 10:00:01"'],
  ['java', 'ts', '1714557600124'],
  ['python', 'tstz', '"2024-05-01T12:00:00.123456+03:00"'],
  ['java', 'tstz', '1714557600.123457000'],
  ['php', 'tstz', '{"date":"2024-05-01 13:00:00.123456","timezone_type":3,"timezone":"Europe\\/Paris"}'],
  ['python', 'doc', '{"id": 12345678901234567891, "price": 19.9, "tags": ["a", "b"]}'],
  ['php', 'doc', '"{\\"id\\": 12345678901234567890, \\"tags\\": [\\"a\\", \\"b\\"], \\"price\\": 19.91}"'],
  ['java', 'raw', '{"n":9007199254740992,"nested":{"k":[1,2500.0]}}'],
  ['go', 'roles', '["viewer","admin"]'],
  ['java', 'prices', '[1.50,2.01]'],
  ['python', 'ints', '[1, 2, 4]'],
  ['python', 'bin', '"AAH+/g=="'], // 00 01 fe fe
  ['php', 'bin', '"\\\\x0001feef"'],
];

const HASH_CHANGES: [keyof typeof HASH_WRITERS, Column, string | Buffer][] = [
  ['goredis', 'big', '9007199254740994'],
  ['redispy', 'amount', '12345678901234.123455'],
  ['redispy', 'dbl', '-37.5567083'],
  ['redispy', 'flt', '0.2'],
  ['redispy', 'flag', 'False'],
  ['goredis', 'flag', '0'],
  ['redispy', 'day', '2024-02-28'],
  ['redispy', 'ts', '2024-05-01 10:00:00.123455'],
  ['goredis', 'ts', '2024-05-01T10:00:00.123455789Z'],
  ['redispy', 'tstz', '2024-05-01 12:00:00.123456+01:00'],
  ['goredis', 'doc', '{"id":12345678901234567890,"tags":["a","c"],"price":19.90}'],
  ['goredis', 'raw', '{"n":9007199254740992,"nested":{"k":[1,2.5e3]}}'],
  ['redispy', 'roles', '["viewer", "viewer"]'],
  ['redispy', 'prices', '["1.50", "2.01"]'],
  ['goredis', 'ints', '[1,2,4]'],
  ['redispy', 'bin', Buffer.from([0x00, 0x01, 0xfe, 0xfe])],
];

interface Case {
  name: string;
  key: string;
  id: number;
  row: Row;
  value: string | HashValue;
  expected: string;
}

const PREFIX = 'wfpg:';
const CASES: Case[] = [
  ...Object.entries(JSON_WRITERS).map(([writer, w]) => {
    const id = Number(w.json[0]?.[1].replace(/"/g, ''));
    return { name: `${writer} JSON`, key: `${PREFIX}j:${id}`, id, row: w.row, value: jsonText(w.json), expected: 'match' };
  }),
  ...Object.entries(HASH_WRITERS).map(([writer, w]) => {
    const id = Number(w.hash.id);
    return { name: `${writer} hash`, key: `${PREFIX}h:${id}`, id, row: w.row, value: w.hash, expected: 'match' };
  }),
  // The shape of rules/example.yaml's user-settings: a hash that does not hold its own id, in a
  // family with `exclude:`. The lookup by key proves the id; a missing key field is no difference.
  (() => {
    const { id: _id, bin: _bin, ...hash } = HASH_WRITERS.redispy.hash;
    return { name: 'redis-py hash without its id, exclude: [bin]', key: `${PREFIX}x:301`, id: 301, row: HASH_WRITERS.redispy.row, value: hash as HashValue, expected: 'match' };
  })(),
  ...JSON_CHANGES.map(([writer, field, json], i) => {
    const w = JSON_WRITERS[writer];
    const id = 101 + i;
    const value = jsonText(withFragment(withFragment(w.json, 'id', String(id)), field, json));
    return { name: `${writer} JSON, ${field} = ${json}`, key: `${PREFIX}j:${id}`, id, row: w.row, value, expected: divergentOn(field) };
  }),
  ...HASH_CHANGES.map(([writer, field, changed], i) => {
    const w = HASH_WRITERS[writer];
    const id = 201 + i;
    const value = withHashField(withHashField(w.hash, 'id', String(id)), field, changed);
    const shown = Buffer.isBuffer(changed) ? `bytes ${changed.toString('hex')}` : changed;
    return { name: `${writer} hash, ${field} = ${shown}`, key: `${PREFIX}h:${id}`, id, row: w.row, value, expected: divergentOn(field) };
  }),
];

describe('shadowcheck audit on PostgreSQL: non-JS writer forms compare by column type', () => {
  let server: RedisServer;
  let testDb: TestDb;
  let box: Sandbox;
  let dir: TempDir;
  let report: NdjsonReport;
  let code: number | null;

  beforeAll(async () => {
    server = await startRedisServer();
    testDb = await openTestDb(1, server.port);
    box = await createPgSandbox();
    dir = await makeTempDir('sc-writer-pg-');

    const s = box.name;
    await box.exec(`CREATE TYPE ${s}.role AS ENUM ('viewer', 'editor', 'admin')`);
    await box.exec(`CREATE DOMAIN ${s}.price AS numeric(10,2) CHECK (VALUE >= 0)`);
    await box.exec(`CREATE TABLE ${box.table('items')} (
      id int4 PRIMARY KEY, big int8, amount numeric(20,6), dbl float8, flt real, flag boolean, day date,
      ts timestamp(6), tstz timestamptz(6), doc jsonb, raw json, roles ${s}.role[], prices ${s}.price[], ints int4[], bin bytea)`);
    const placeholders = COLUMNS.map((_, i) => `$${i + 2}`).join(', ');
    for (const c of CASES) {
      await box.exec(`INSERT INTO ${box.table('items')} (id, ${COLUMNS.join(', ')}) VALUES ($1, ${placeholders})`, [c.id, ...COLUMNS.map((col) => c.row[col])]);
    }

    // No TTL: a difference is divergent/no-ttl whatever the timing.
    const pipe = testDb.redis.pipeline();
    for (const c of CASES) {
      if (typeof c.value === 'string') pipe.set(c.key, c.value);
      else pipe.hset(c.key, c.value);
    }
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];

    const rules = [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${box.url}" }`,
      'families:',
      '  - name: items-json',
      `    pattern: "${PREFIX}j:{id}"`,
      '    source: main',
      `    table: ${box.table('items')}`,
      '    key: id',
      '    ttl: 300s',
      '  - name: items-hash',
      `    pattern: "${PREFIX}h:{id}"`,
      '    type: hash',
      '    source: main',
      `    table: ${box.table('items')}`,
      '    key: id',
      '    ttl: 300s',
      '  - name: items-hash-exclude',
      `    pattern: "${PREFIX}x:{id}"`,
      '    type: hash',
      '    source: main',
      `    table: ${box.table('items')}`,
      '    key: id',
      '    exclude: [bin]',
      '    ttl: 300s',
    ].join('\n');
    const rulesFile = await dir.write('rules.yaml', rules);
    // A host zone far from UTC: nothing may depend on it.
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0'], {
      TZ: 'America/St_Johns',
    });
    code = result.code;
    report = parseRunNdjson(result);
  });

  afterAll(async () => {
    await testDb?.close();
    await server?.kill();
    await box?.drop();
    await dir?.remove();
  });

  it('judges every planted key once, and nothing else', () => {
    expect(report.keys.map((k) => k.key).sort()).toEqual(CASES.map((c) => c.key).sort());
  });

  it.each(CASES.filter((c) => c.expected === 'match'))('$name: every column matches ($key)', ({ key, expected }) => {
    const line = report.byKey.get(key);
    expect(outcome(line), JSON.stringify(line?.diff)).toBe(expected);
  });

  it.each(CASES.filter((c) => c.expected !== 'match'))('$name: divergent on that field only ($key)', ({ key, expected }) => {
    const line = report.byKey.get(key);
    expect(outcome(line), JSON.stringify(line?.diff)).toBe(expected);
  });

  it('summary: only the planted differences, all divergent, no errors (exit 1: divergent keys fail the default gate)', () => {
    const changed = JSON_CHANGES.length + HASH_CHANGES.length;
    expect(report.summary.summary).toMatchObject({ sampled: CASES.length, match: CASES.length - changed, divergent: changed, error: 0, skipped: 0 });
    expect(code).toBe(1);
  });
});
