/**
 * Issue 13, part 1 (MariaDB): values cached by non-JS services compare by the source column's type
 * with no `normalize:`. One table with a column per type, rows cached as JSON strings (json codec)
 * by a Python, a Go, a Java and a PHP service, and as hashes of strings by phpredis, go-redis and
 * Jedis. Every equal value is a `match`; a copy where exactly one digit, day or flag differs is
 * `divergent/no-ttl` (no expiry, so the verdict does not depend on timing) naming only that field.
 * TINYINT(1) is a boolean only while it stores 0 or 1. A second source with `timezone:
 * Europe/Paris` reads its DATETIMEs (and zone-less cached texts) as Paris wall-clock time.
 *
 * The cached values are checked-in literals, each commented with the writer call that produces it
 * (checked with python3 3.11 and OpenJDK 17 when written; Go and PHP forms from their documented
 * formatting). Literals keep the test independent of other languages being installed.
 *
 * Isolation: a private redis-server (no shared database touched), a throwaway `sc_<hex>` database
 * and a temp dir for the rules file; all removed afterwards. One CLI run.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, startRedisServer, type RedisServer, type TestDb } from '../helpers/redis.js';
import { divergentOn, jsonText, outcome, withFragment, withHashField, type JsonFragments } from '../helpers/writer-forms.js';

const COLUMNS = ['big', 'amount', 'dbl', 'flt', 'flag', 'day', 'dt', 'ts', 'doc', 'bin'] as const;
type Column = (typeof COLUMNS)[number];
/** A row as inserted (text, a number for TINYINT(1), bytes for the BLOB). */
type Row = Record<Exclude<Column, 'flag' | 'bin'>, string> & { flag: number; bin: Buffer };

const BIN = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
const BASE: Row = {
  big: '9007199254740993', // 2^53 + 1
  amount: '12345678901234.123456', // 20 significant digits: no double holds it
  dbl: '-37.5567082',
  flt: '0.1',
  flag: 1,
  day: '2024-02-29',
  dt: '2024-05-01 10:00:00.123456',
  ts: '2024-05-01 10:00:00.123456', // inserted in a UTC session
  doc: '{"id": 12345678901234567890, "tags": ["a", "b"], "price": 19.90}', // MariaDB keeps the text
  bin: BIN,
};

/** JSON strings (json codec), keyed by writer. */
const JSON_WRITERS: Record<'python' | 'go' | 'java' | 'php' | 'phpTinyint', { row: Row; json: JsonFragments }> = {
  // Python 3 + PyMySQL (UTC session): json.dumps(row, default=enc) with enc giving datetime/date
  // .isoformat() (TIMESTAMP comes back naive), Decimal str(), bytes base64.b64encode(); the JSON
  // column's text json.loads'd first; TINYINT(1) is a Python int.
  python: {
    row: BASE,
    json: [
      ['id', '1'],
      ['big', '9007199254740993'],
      ['amount', '"12345678901234.123456"'],
      ['dbl', '-37.5567082'], // repr(float)
      ['flt', '0.1'],
      ['flag', '1'],
      ['day', '"2024-02-29"'],
      ['dt', '"2024-05-01T10:00:00.123456"'], // datetime.isoformat(): microseconds, no zone
      ['ts', '"2024-05-01T10:00:00.123456"'],
      ['doc', '{"id": 12345678901234567890, "price": 19.9, "tags": ["a", "b"]}'],
      ['bin', '"AAH+/w=="'],
    ],
  },
  // Go encoding/json of a struct scanned by go-sql-driver/mysql (parseTime, loc=UTC, prepared
  // statements: FLOAT arrives as float32, widened to float64): time.Time as RFC 3339 nano with
  // trailing zeros trimmed, DECIMAL scanned into a string, JSON as json.RawMessage (compacted).
  go: {
    row: { ...BASE, dt: '2024-05-01 10:00:00.1234', ts: '2024-05-01 10:00:00.5' },
    json: [
      ['id', '2'],
      ['big', '9007199254740993'],
      ['amount', '"12345678901234.123456"'],
      ['dbl', '-37.5567082'],
      ['flt', '0.10000000149011612'], // float64(float32(0.1))
      ['flag', 'true'],
      ['day', '"2024-02-29T00:00:00Z"'],
      ['dt', '"2024-05-01T10:00:00.1234Z"'], // RFC3339Nano of .123400: zeros trimmed
      ['ts', '"2024-05-01T12:00:00.5+02:00"'], // RFC3339Nano, t.In(Europe/Paris)
      ['doc', '{"id":12345678901234567890,"tags":["a","b"],"price":19.90}'],
      ['bin', '"AAH+/w=="'],
    ],
  },
  // Java: Connector/J (TINYINT(1) as Boolean) + Jackson with JavaTimeModule, defaults: Date and
  // Timestamp as epoch ms (JVM in UTC), Instant as decimal epoch seconds with nanos,
  // Double.toString(12345678.9) = 1.23456789E7, (double) getFloat() = 1.100000023841858.
  java: {
    row: { ...BASE, amount: '100', dbl: '12345678.9', flt: '1.1', flag: 0 },
    json: [
      ['id', '3'],
      ['big', '9007199254740993'],
      ['amount', '100.000000'], // BigDecimal.toString()
      ['dbl', '1.23456789E7'],
      ['flt', '1.100000023841858'],
      ['flag', 'false'],
      ['day', '1709164800000'], // java.sql.Date.valueOf("2024-02-29").getTime()
      ['dt', '1714557600123'], // Timestamp.getTime(), as System.currentTimeMillis() would give
      ['ts', '1714557600.123456000'], // Instant, WRITE_DATE_TIMESTAMPS_AS_NANOSECONDS
      ['doc', '{"id":12345678901234567890,"tags":["a","b"],"price":19.9}'],
      ['bin', '"AAH+/w=="'],
    ],
  },
  // PHP 7.0, PDO mysql with emulated prepares (every column a string): floats cast with (float)
  // and json_encode'd at serialize_precision = 17; `dt` as date('Y-m-d H:i:s', ...); `ts` as
  // strtotime() epoch seconds; the JSON column's text kept as a string; base64_encode() bytes.
  php: {
    row: BASE,
    json: [
      ['id', '"4"'],
      ['big', '"9007199254740993"'],
      ['amount', '"12345678901234.123456"'],
      ['dbl', '-37.556708200000003'], // '%.17g' % -37.5567082
      ['flt', '0.10000000000000001'],
      ['flag', '"1"'],
      ['day', '"2024-02-29"'],
      ['dt', '"2024-05-01 10:00:00"'],
      ['ts', '1714557600'],
      ['doc', '"{\\"id\\": 12345678901234567890, \\"tags\\": [\\"a\\", \\"b\\"], \\"price\\": 19.90}"'],
      ['bin', '"AAH+/w=="'],
    ],
  },
  // A TINYINT(1) holding 3 (MySQL's BOOLEAN stores -128..127), cached by PHP as (int) 3.
  phpTinyint: {
    row: { ...BASE, flag: 3 },
    json: [
      ['id', '5'],
      ['big', '"9007199254740993"'],
      ['amount', '"12345678901234.123456"'],
      ['dbl', '-37.556708200000003'],
      ['flt', '0.10000000000000001'],
      ['flag', '3'],
      ['day', '"2024-02-29"'],
      ['dt', '"2024-05-01 10:00:00"'],
      ['ts', '1714557600'],
      ['doc', '"{\\"id\\": 12345678901234567890, \\"tags\\": [\\"a\\", \\"b\\"], \\"price\\": 19.90}"'],
      ['bin', '"AAH+/w=="'],
    ],
  },
};

type HashValue = Record<'id' | Column, string | Buffer>;

/** Hashes (every field a string), keyed by writer. */
const HASH_WRITERS: Record<'phpredis' | 'goredis' | 'jedis', { row: Row; hash: HashValue }> = {
  // phpredis $redis->hMSet($key, $row) of a PDO row: MySQL's text protocol strings as they are.
  phpredis: {
    row: BASE,
    hash: {
      id: '11',
      big: '9007199254740993',
      amount: '12345678901234.123456',
      dbl: '-37.5567082',
      flt: '0.1',
      flag: '1',
      day: '2024-02-29',
      dt: '2024-05-01 10:00:00.123456',
      ts: '2024-05-01 10:00:00.123456',
      doc: '{"id": 12345678901234567890, "tags": ["a", "b"], "price": 19.90}',
      bin: BIN,
    },
  },
  // go-redis v9 HSet: bools as "1"/"0", float64 via strconv 'f' -1, time.Time as RFC3339Nano
  // (time.Now() nanoseconds; the row got them truncated to microseconds), `ts` stored as
  // t.UnixNano(), []byte and json.RawMessage raw.
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
      dt: '2024-05-01T10:00:00.123456789Z',
      ts: '1714557600123456789',
      doc: '{"id":12345678901234567890,"tags":["a","b"],"price":19.90}',
      bin: BIN,
    },
  },
  // Jedis hset(key, Map<String, String>) of String.valueOf(...) each: Timestamp.getTime() epoch
  // ms, Instant.toString(), LocalDate.toString(), Double/Float/Boolean/BigDecimal.toString(),
  // JsonNode.toString(), Base64 bytes.
  jedis: {
    row: { ...BASE, amount: '100', dbl: '12345678.9', flt: '1.1', flag: 0 },
    hash: {
      id: '13',
      big: '9007199254740993',
      amount: '100.000000',
      dbl: '1.23456789E7',
      flt: '1.1',
      flag: 'false',
      day: '2024-02-29',
      dt: '1714557600123',
      ts: '2024-05-01T10:00:00.123456Z',
      doc: '{"id":12345678901234567890,"tags":["a","b"],"price":19.9}',
      bin: 'AAH+/w==',
    },
  },
};

/** One value per case changed by one digit, day or flag: [writer, field, changed JSON text]. */
const JSON_CHANGES: [keyof typeof JSON_WRITERS, Column, string][] = [
  ['python', 'big', '9007199254740992'], // the same double as 2^53 + 1
  ['go', 'amount', '"12345678901234.123457"'],
  ['php', 'dbl', '-37.556708200000013'], // a different double
  ['go', 'flt', '0.10000001149011612'], // rounds to another single
  ['python', 'flag', '0'],
  ['java', 'flag', 'true'],
  ['php', 'flag', '"0"'],
  ['phpTinyint', 'flag', '"1"'], // stores 3: not a boolean
  ['phpTinyint', 'flag', 'true'],
  ['java', 'day', '1709251200000'], // 2024-03-01
  ['go', 'day', '"2024-02-28T00:00:00Z"'],
  ['python', 'dt', '"2024-05-01T10:00:00.123457"'],
  ['go', 'dt', '"2024-05-01T10:00:00.1235Z"'],
  ['php', 'dt', '"2024-05-01 10:00:01"'],
  ['java', 'dt', '1714557600124'],
  ['python', 'ts', '"2024-05-01T11:00:00.123456"'],
  ['go', 'ts', '"2024-05-01T12:00:00.5+01:00"'],
  ['java', 'ts', '1714557600.123457000'],
  ['php', 'ts', '1714557601'],
  ['python', 'doc', '{"id": 12345678901234567891, "price": 19.9, "tags": ["a", "b"]}'], // past 2^64: same double
  ['php', 'doc', '"{\\"id\\": 12345678901234567890, \\"tags\\": [\\"a\\", \\"b\\"], \\"price\\": 19.91}"'],
  ['python', 'bin', '"AAH+/g=="'], // 00 01 fe fe
];

const HASH_CHANGES: [keyof typeof HASH_WRITERS, Column, string | Buffer][] = [
  ['goredis', 'big', '9007199254740992'],
  ['phpredis', 'amount', '12345678901234.123455'],
  ['phpredis', 'dbl', '-37.5567092'],
  ['jedis', 'dbl', '1.23456788E7'],
  ['goredis', 'flt', '0.2'],
  ['phpredis', 'flag', '0'],
  ['jedis', 'flag', 'true'],
  ['jedis', 'day', '2024-02-28'],
  ['phpredis', 'dt', '2024-05-01 10:00:00.123457'],
  ['jedis', 'dt', '1714557601123'],
  ['phpredis', 'ts', '2024-05-02 10:00:00.123456'],
  ['goredis', 'ts', '1714557600124456789'],
  ['goredis', 'doc', '{"id":12345678901234567891,"tags":["a","b"],"price":19.90}'],
  ['phpredis', 'bin', Buffer.from([0x00, 0x01, 0xfe, 0xfe])],
  ['jedis', 'bin', 'AAH+/g=='],
];

/** DATETIME(6) rows of the `timezone: Europe/Paris` source (wall-clock Paris time) and their cached JSON `at`. */
const ZONED: { id: number; at: string; cached: string; expected: string; name: string }[] = [
  { id: 1, at: '2024-07-01 12:00:00', cached: '"2024-07-01 12:00:00"', expected: 'match', name: "PHP date('Y-m-d H:i:s') in Paris" },
  { id: 2, at: '2024-07-01 12:00:00', cached: '"2024-07-01T10:00:00Z"', expected: 'match', name: 'UTC ISO with Z (summer, +02:00)' },
  { id: 3, at: '2024-07-01 12:00:00', cached: '"2024-07-01T11:00:00Z"', expected: divergentOn('at'), name: 'UTC ISO one hour off' },
  { id: 4, at: '2024-07-01 12:00:00', cached: '1719828000000', expected: 'match', name: 'Java epoch ms' },
  {
    id: 5,
    at: '2024-07-01 12:00:00',
    cached: '{"date":"2024-07-01 12:00:00.000000","timezone_type":3,"timezone":"Europe\\/Paris"}',
    expected: 'match',
    name: 'PHP json_encode(DateTime)',
  },
  { id: 6, at: '2024-01-15 10:00:00', cached: '"2024-01-15T09:00:00Z"', expected: 'match', name: 'UTC ISO with Z (winter, +01:00)' },
  { id: 7, at: '2024-01-15 10:00:00', cached: '"2024-01-15 11:00:00"', expected: divergentOn('at'), name: 'PHP zone-less one hour off' },
];

interface Case {
  name: string;
  key: string;
  id: number;
  row: Row;
  value: string | HashValue;
  expected: string;
}

const PREFIX = 'wfmy:';
const CASES: Case[] = [
  ...Object.entries(JSON_WRITERS).map(([writer, w]) => {
    const id = Number(w.json[0]?.[1].replace(/"/g, ''));
    return { name: `${writer} JSON`, key: `${PREFIX}j:${id}`, id, row: w.row, value: jsonText(w.json), expected: 'match' };
  }),
  ...Object.entries(HASH_WRITERS).map(([writer, w]) => {
    const id = Number(w.hash.id);
    return { name: `${writer} hash`, key: `${PREFIX}h:${id}`, id, row: w.row, value: w.hash, expected: 'match' };
  }),
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

describe('shadowcheck audit on MariaDB: non-JS writer forms compare by column type', () => {
  let server: RedisServer;
  let testDb: TestDb;
  let box: Sandbox;
  let dir: TempDir;
  let report: NdjsonReport;
  let code: number | null;

  beforeAll(async () => {
    server = await startRedisServer();
    testDb = await openTestDb(1, server.port);
    box = await createMysqlSandbox();
    dir = await makeTempDir('sc-writer-my-');

    await box.exec(`CREATE TABLE items (
      id INT PRIMARY KEY, big BIGINT, amount DECIMAL(20,6), dbl DOUBLE, flt FLOAT, flag TINYINT(1), day DATE,
      dt DATETIME(6), ts TIMESTAMP(6) NULL, doc JSON, bin BLOB)`);
    for (const c of CASES) {
      await box.exec(`INSERT INTO items (id, ${COLUMNS.join(', ')}) VALUES (?${', ?'.repeat(COLUMNS.length)})`, [c.id, ...COLUMNS.map((col) => c.row[col])]);
    }
    await box.exec('CREATE TABLE events (id INT PRIMARY KEY, at DATETIME(6) NOT NULL)');
    for (const z of ZONED) await box.exec('INSERT INTO events (id, at) VALUES (?, ?)', [z.id, z.at]);

    // No TTL: a difference is divergent/no-ttl whatever the timing.
    const pipe = testDb.redis.pipeline();
    for (const c of CASES) {
      if (typeof c.value === 'string') pipe.set(c.key, c.value);
      else pipe.hset(c.key, c.value);
    }
    for (const z of ZONED) pipe.set(`${PREFIX}tz:${z.id}`, `{"id":${z.id},"at":${z.cached}}`);
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];

    const rules = [
      'version: 1',
      'sources:',
      `  shop: { kind: mysql, url: "${box.url}" }`,
      `  paris: { kind: mysql, url: "${box.url}", timezone: Europe/Paris }`,
      'families:',
      '  - name: items-json',
      `    pattern: "${PREFIX}j:{id}"`,
      '    source: shop',
      '    table: items',
      '    key: id',
      '    ttl: 300s',
      '  - name: items-hash',
      `    pattern: "${PREFIX}h:{id}"`,
      '    type: hash',
      '    source: shop',
      '    table: items',
      '    key: id',
      '    ttl: 300s',
      '  - name: events-paris',
      `    pattern: "${PREFIX}tz:{id}"`,
      '    source: paris',
      '    table: events',
      '    key: id',
      '    ttl: 300s',
    ].join('\n');
    const rulesFile = await dir.write('rules.yaml', rules);
    // A host zone far from both UTC and Paris: nothing may depend on it.
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0'], {
      TZ: 'Asia/Kolkata',
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
    const keys = [...CASES.map((c) => c.key), ...ZONED.map((z) => `${PREFIX}tz:${z.id}`)];
    expect(report.keys.map((k) => k.key).sort()).toEqual(keys.sort());
  });

  it.each(CASES.filter((c) => c.expected === 'match'))('$name: every column matches ($key)', ({ key, expected }) => {
    const line = report.byKey.get(key);
    expect(outcome(line), JSON.stringify(line?.diff)).toBe(expected);
  });

  it.each(CASES.filter((c) => c.expected !== 'match'))('$name: divergent on that field only ($key)', ({ key, expected }) => {
    const line = report.byKey.get(key);
    expect(outcome(line), JSON.stringify(line?.diff)).toBe(expected);
  });

  it.each(ZONED)('timezone: Europe/Paris DATETIME $at, cached $name', ({ id, expected }) => {
    const line = report.byKey.get(`${PREFIX}tz:${id}`);
    expect(outcome(line), JSON.stringify(line?.diff)).toBe(expected);
  });

  it('summary: only the planted differences, all divergent, no errors (exit 1: divergent keys fail the default gate)', () => {
    const all = CASES.length + ZONED.length;
    const changed = JSON_CHANGES.length + HASH_CHANGES.length + ZONED.filter((z) => z.expected !== 'match').length;
    expect(report.summary.summary).toMatchObject({ sampled: all, match: all - changed, divergent: changed, error: 0, skipped: 0 });
    expect(code).toBe(1);
  });
});
