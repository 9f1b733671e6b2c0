/**
 * The `msgpack` and `gzip-json` codecs end to end: rows in PostgreSQL, values cached the way an
 * application using those serializers writes them, audited by the built CLI. Right values are a
 * match (including a bigint past 2^53 and a bytea as msgpack bin); a planted wrong value without a
 * TTL is divergent; garbage is an undecodable error that shows its first bytes as hex.
 *
 * Isolation: Redis logical database 7 (only `cx:` keys), a throwaway `sc_<hex>` schema, a temp
 * dir for the rules file; all removed afterwards.
 */
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 7;
const PREFIX = 'cx:';

const ROWS = [
  { id: 1, name: 'Ada', big: '9007199254740993', price: '19.90', blob: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
  { id: 2, name: 'Zoë', big: '-9007199254740993', price: '0.10', blob: Buffer.from([0x00]) },
  { id: 3, name: 'Grace', big: '42', price: '5.00', blob: Buffer.from([]) },
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

function gzipJsonOf(row: (typeof ROWS)[number]): Buffer {
  const wrong = row.id === WRONG_ID;
  // Written by hand: JSON.stringify cannot spell 2^53 + 1.
  const json = `{"id":${row.id},"name":${JSON.stringify(wrong ? 'Grace H.' : row.name)},"big":${row.big},"price":${row.price}}`;
  return gzipSync(Buffer.from(json));
}

describe('shadowcheck audit with the msgpack and gzip-json codecs', () => {
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

    await box.exec(`CREATE TABLE ${box.table('users')} (id integer PRIMARY KEY, name text, big bigint, price numeric(10,2), blob bytea)`);
    for (const r of ROWS) {
      await box.exec(`INSERT INTO ${box.table('users')} (id, name, big, price, blob) VALUES ($1, $2, $3, $4, $5)`, [r.id, r.name, r.big, r.price, r.blob]);
    }

    const pipe = testDb.redis.pipeline();
    for (const row of ROWS) {
      const mp = `${PREFIX}mp:${row.id}`;
      const gz = `${PREFIX}gz:${row.id}`;
      if (row.id === WRONG_ID) {
        pipe.set(mp, msgpackOf(row));
        pipe.set(gz, gzipJsonOf(row));
      } else {
        pipe.set(mp, msgpackOf(row), 'EX', 200);
        pipe.set(gz, gzipJsonOf(row), 'EX', 200);
      }
    }
    // Id 1 again, under a key whose bytes are not gzip at all.
    pipe.set(`${PREFIX}gzbad:1`, Buffer.from('c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1', 'hex'), 'EX', 200);
    const replies = await pipe.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];

    const family = (name: string, prefix: string, codec: string, fields: string) =>
      [
        `  - name: ${name}`,
        `    pattern: "${PREFIX}${prefix}:{id}"`,
        `    codec: ${codec}`,
        '    source: main',
        `    table: ${box.table('users')}`,
        '    key: id',
        `    fields: [${fields}]`,
        '    ttl: 300s',
      ];
    const rules = [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${box.url}" }`,
      'families:',
      ...family('users-msgpack', 'mp', 'msgpack', 'name, big, price, blob'),
      ...family('users-gzip', 'gz', 'gzip-json', 'name, big, price'),
      ...family('users-gzip-bad', 'gzbad', 'gzip-json', 'name, big, price'),
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

  it('right values match: bigint past 2^53, numeric, text, bytea as bin', () => {
    const got = Object.fromEntries(
      ROWS.filter((r) => r.id !== WRONG_ID).flatMap((r) =>
        [`${PREFIX}mp:${r.id}`, `${PREFIX}gz:${r.id}`].map((key) => {
          const line = report.byKey.get(key);
          return [key, line === undefined ? 'missing' : `${label(line)} ${JSON.stringify(line.diff)}`];
        }),
      ),
    );
    const want = Object.fromEntries(
      ROWS.filter((r) => r.id !== WRONG_ID).flatMap((r) => [`${PREFIX}mp:${r.id}`, `${PREFIX}gz:${r.id}`].map((key) => [key, 'match []'])),
    );
    expect(got, stderr).toEqual(want);
  });

  it('a planted wrong value without a TTL is divergent on exactly the changed field', () => {
    for (const key of [`${PREFIX}mp:${WRONG_ID}`, `${PREFIX}gz:${WRONG_ID}`]) {
      const line = report.byKey.get(key);
      expect(line?.verdict, key).toBe('divergent');
      expect(line?.diff.map((d) => d.path), key).toEqual(['name']);
    }
  });

  it('bytes that are not gzip are undecodable, with their first bytes as hex', () => {
    const line = report.byKey.get(`${PREFIX}gzbad:1`);
    expect(line === undefined ? 'missing' : label(line)).toBe('error/undecodable');
    expect(line?.detail).toContain('first: c1c2c3c4c5c6c7c8c9cacbcccdcecfd0…');
  });
});
