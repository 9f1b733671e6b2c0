/**
 * The codecs end to end (`msgpack`, `gzip-json`, `brotli-json`, `raw` with and without the `json`
 * normalizer, and hash fields with their own codec): rows in PostgreSQL, values cached the way an
 * application using those serializers writes them, audited by the built CLI. Right values are a
 * match (including a bigint past 2^53 and a bytea as msgpack bin); a planted wrong value without a
 * TTL is divergent; garbage is an undecodable error that shows its first bytes as hex.
 *
 * Isolation: logical database 7 of a private redis-server (only `cx:` keys), a throwaway `sc_<hex>` schema, a temp
 * dir for the rules file; all removed afterwards.
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 7;
const PREFIX = 'cx:';

const ROWS = [
  {
    id: 1, name: 'Ada', big: '9007199254740993', price: '19.90', blob: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    // jsonb in the row; the cache holds the same document with its keys in another order.
    prefs: '{"theme": "dark", "n": 9007199254740993}', cachedPrefs: '{"n":9007199254740993,"theme":"dark"}',
  },
  { id: 2, name: 'Zoë', big: '-9007199254740993', price: '0.10', blob: Buffer.from([0x00]), prefs: '{"tags": ["a", "b"]}', cachedPrefs: '{"tags":["a","b"]}' },
  { id: 3, name: 'Grace', big: '42', price: '5.00', blob: Buffer.from([]), prefs: '{}', cachedPrefs: '{"theme":"sepia"}' },
];
/** Id 3 is cached wrong (2^53 rounding and a stale name), with no TTL. */
const WRONG_ID = 3;

function msgpackOf(row: (typeof ROWS)[number]): Buffer {
  const wrong = row.id === WRONG_ID;
  return Buffer.from(
    encode(
      { id: row.id, name: wrong ? 'Grace H.' : row.name, big: BigInt(row.big), price: Number(row.price), blob: new Uint8Array(row.blob) },
      { useBigInt64: true },
    ),
  );
}

function jsonOf(row: (typeof ROWS)[number]): Buffer {
  const wrong = row.id === WRONG_ID;
  // Written by hand: JSON.stringify cannot spell 2^53 + 1.
  return Buffer.from(`{"id":${row.id},"name":${JSON.stringify(wrong ? 'Grace H.' : row.name)},"big":${row.big},"price":${row.price}}`);
}

/** String-valued families other than msgpack: each key's value for a row. */
const STRING_FAMILIES: Record<string, (row: (typeof ROWS)[number]) => Buffer> = {
  gz: (row) => gzipSync(jsonOf(row)),
  br: (row) => brotliCompressSync(jsonOf(row)),
  raw: (row) => Buffer.from(row.id === WRONG_ID ? 'Grace H.' : row.name),
  // A JSON document cached as text, compared through the `json` normalizer.
  rawj: (row) => Buffer.from(row.cachedPrefs),
};

/** Hash fields with their own codec: prefs as JSON, name as text, stock as gzip-json. */
function hashOf(row: (typeof ROWS)[number]): Record<string, Buffer> {
  return {
    name: Buffer.from(row.name),
    prefs: Buffer.from(row.cachedPrefs),
    packed: gzipSync(Buffer.from(`{"big":${row.big}}`)),
  };
}

describe('shadowcheck audit with each codec', () => {
  let testDb: TestDb;
  let box: Sandbox;
  let dir: TempDir;
  let report: NdjsonReport;
  let rulesFile: string;
  let stderr = '';

  beforeAll(async () => {
    testDb = await openTestDb(REDIS_DB);
    await testDb.sweep([PREFIX]);
    box = await createPgSandbox();
    dir = await makeTempDir('sc-codecs-');

    await box.exec(`CREATE TABLE ${box.table('users')} (id integer PRIMARY KEY, name text, big bigint, price numeric(10,2), blob bytea, prefs jsonb)`);
    for (const r of ROWS) {
      await box.exec(`INSERT INTO ${box.table('users')} (id, name, big, price, blob, prefs) VALUES ($1, $2, $3, $4, $5, $6)`, [
        r.id, r.name, r.big, r.price, r.blob, r.prefs,
      ]);
    }

    const pipe = testDb.redis.pipeline();
    for (const row of ROWS) {
      const values = Object.entries({ mp: msgpackOf, ...STRING_FAMILIES }).map(([family, encode]) => [`${PREFIX}${family}:${row.id}`, encode(row)] as const);
      for (const [key, value] of values) pipe.set(key, value);
      pipe.hset(`${PREFIX}h:${row.id}`, hashOf(row));
      // The wrong values are kept without a TTL: divergent, not within-ttl.
      if (row.id !== WRONG_ID) for (const key of [...values.map(([k]) => k), `${PREFIX}h:${row.id}`]) pipe.expire(key, 200);
    }
    // Id 1 again, under a key whose bytes are not gzip at all.
    pipe.set(`${PREFIX}gzbad:1`, Buffer.from('c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1', 'hex'), 'EX', 200);
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];

    const family = (name: string, prefix: string, codec: string, fields: string, ...more: string[]) =>
      [
        `  - name: ${name}`,
        `    pattern: "${PREFIX}${prefix}:{id}"`,
        `    codec: ${codec}`,
        '    source: main',
        `    table: ${box.table('users')}`,
        '    key: id',
        `    fields: [${fields}]`,
        '    ttl: 300s',
        ...more.map((line) => `    ${line}`),
      ];
    const rules = [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${box.url}" }`,
      'families:',
      ...family('users-msgpack', 'mp', 'msgpack', 'name, big, price, blob'),
      ...family('users-gzip', 'gz', 'gzip-json', 'name, big, price'),
      ...family('users-gzip-bad', 'gzbad', 'gzip-json', 'name, big, price'),
      ...family('users-brotli', 'br', 'brotli-json', 'name, big, price'),
      ...family('users-raw', 'raw', 'raw', 'name'),
      ...family('users-raw-json', 'rawj', 'raw', 'prefs', 'normalize: { prefs: json }'),
      '  - name: users-hash',
      `    pattern: "${PREFIX}h:{id}"`,
      '    type: hash',
      '    fieldCodecs: { prefs: json, packed: gzip-json }',
      '    exclude: [id]',
      '    source: main',
      `    query: "SELECT id, name, prefs, json_build_object('big', big) AS packed FROM ${box.table('users')} WHERE id = ANY($1)"`,
      '    ttl: 300s',
    ].join('\n');
    rulesFile = await dir.write('rules.yaml', rules);
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', testDb.url, '--all', '--format', 'ndjson', '--confirm-delay', '0']);
    stderr = result.stderr;
    report = parseRunNdjson(result);
  }, 120_000);

  afterAll(async () => {
    if (testDb !== undefined) {
      await testDb.sweep([PREFIX]);
      await testDb.close();
    }
    await box?.drop();
    await dir?.remove();
  });

  it('rules validate accepts the codecs', async () => {
    const result = await runCli(['rules', 'validate', rulesFile]);
    expect(result.code, result.stderr).toBe(0);
  });

  const FAMILIES = ['mp', 'gz', 'br', 'raw', 'rawj', 'h'];

  it('right values match: bigint past 2^53, numeric, text, bytea as bin, JSON in a string or a hash field', () => {
    const got = Object.fromEntries(
      ROWS.filter((r) => r.id !== WRONG_ID).flatMap((r) =>
        FAMILIES.map((f) => `${PREFIX}${f}:${r.id}`).map((key) => {
          const line = report.byKey.get(key);
          return [key, line === undefined ? 'missing' : `${label(line)} ${JSON.stringify(line.diff)}`];
        }),
      ),
    );
    const want = Object.fromEntries(
      ROWS.filter((r) => r.id !== WRONG_ID).flatMap((r) => FAMILIES.map((f) => [`${PREFIX}${f}:${r.id}`, 'match []'])),
    );
    expect(got, stderr).toEqual(want);
  });

  it('a planted wrong value without a TTL is divergent on exactly the changed field', () => {
    const changed: Record<string, string[]> = { mp: ['name'], gz: ['name'], br: ['name'], raw: ['name'], rawj: ['prefs.theme'], h: ['prefs.theme'] };
    const got = Object.fromEntries(Object.keys(changed).map((f) => {
      const line = report.byKey.get(`${PREFIX}${f}:${WRONG_ID}`);
      return [f, line === undefined ? 'missing' : [label(line), ...line.diff.map((d) => d.path)]];
    }));
    expect(got).toEqual(Object.fromEntries(Object.entries(changed).map(([f, paths]) => [f, ['divergent/no-ttl', ...paths]])));
  });

  it('bytes that are not gzip are undecodable, with their first bytes as hex', () => {
    const line = report.byKey.get(`${PREFIX}gzbad:1`);
    expect(line === undefined ? 'missing' : label(line)).toBe('error/undecodable');
    expect(line?.detail).toContain('first: c1c2c3c4c5c6c7c8c9cacbcccdcecfd0…');
  });
});
