/** What only the postgres loader has to get right: pg's type parsing and identifier quoting. */
import { isLosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

describe.runIf((process.env['SHADOWCHECK_LOADERS'] ?? 'postgres').split(',').includes('postgres'))('postgres loader', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;
  const hostZone = process.env['TZ'];

  beforeAll(async () => {
    process.env['TZ'] = 'Europe/Helsinki';
    sandbox = await createPgSandbox();
    loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: sandbox.url }, { timeoutMs: 2000, maxConnections: 2 });
  });
  afterAll(async () => {
    await loader?.close();
    await sandbox?.drop();
    if (hostZone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = hostZone;
  });

  it('parses timestamps as UTC (arrays, infinity and BC too), keeps dates as text, int8/numeric as exact numbers, json parsed', async () => {
    const query = `SELECT 1 AS id,
        '2024-05-01 10:00:00.123456'::timestamp AS ts,
        ARRAY['2024-05-01 10:00:00.5', NULL]::timestamp[] AS tss,
        'infinity'::timestamp AS inf,
        '0044-03-15 12:00:00 BC'::timestamp AS bc,
        '2024-05-01'::date AS d,
        ARRAY['2024-05-01'::date, NULL] AS ds,
        '{"b": [1, 2], "a": null}'::jsonb AS j,
        '{"x": 1}'::json AS js,
        12345678901234567890.10::numeric AS n,
        9007199254740993::int8 AS i8,
        true AS b
      WHERE '1' = ANY($1)`;
    const row = (await loader.load(familyRule({ name: 'types', query }), ['1'])).rows.get('1');
    expect(row).toBeDefined();
    expect((row?.['ts'] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
    expect((row?.['tss'] as (Date | null)[]).map((d) => d?.toISOString() ?? null)).toEqual(['2024-05-01T10:00:00.500Z', null]);
    expect(row?.['inf']).toBe(Infinity);
    expect((row?.['bc'] as Date).getUTCFullYear()).toBe(-43);
    expect((row?.['bc'] as Date).getUTCHours()).toBe(12);
    expect(row?.['d']).toBe('2024-05-01');
    expect(row?.['ds']).toEqual(['2024-05-01', null]);
    expect(row?.['j']).toEqual({ b: [1, 2], a: null });
    expect(row?.['js']).toEqual({ x: 1 });
    expect(String(row?.['n'])).toBe('12345678901234567890.10');
    expect(String(row?.['i8'])).toBe('9007199254740993');
    expect(isLosslessNumber(row?.['n']) && isLosslessNumber(row?.['i8'])).toBe(true);
    expect(row?.['b']).toBe(true);
  });

  it('refuses a query that turns the session default off, or writes, before sending it (read-only-query.ts)', async () => {
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.guarded (id int PRIMARY KEY)`);
    const single = await createSourceLoader({ name: 'main', kind: 'postgres', url: sandbox.url }, { timeoutMs: 2000, maxConnections: 1 });
    try {
      const flip = `SELECT 1 AS id WHERE '1' = ANY($1) AND set_config('default_transaction_read_only', 'off', false) IS NOT NULL`;
      await expect(single.load(familyRule({ name: 'flip', query: flip }), ['1'])).rejects.toThrow(/family "flip": the query calls set_config\(\)/);
      const write = `INSERT INTO ${sandbox.name}.guarded SELECT 1 WHERE '1' = ANY($1) RETURNING id`;
      await expect(single.load(familyRule({ name: 'write', query: write }), ['1'])).rejects.toThrow(/the query is not a SELECT \(INSERT statement\)/);
      expect(await sandbox.exec(`SELECT id FROM ${sandbox.name}.guarded`)).toEqual([]);
    } finally {
      await single.close();
    }
  });

  it('leaves the process-wide pg type parsers alone', async () => {
    const pg = (await import('pg')).default;
    const parse = pg.types.getTypeParser(1114, 'text') as (text: string) => Date;
    // pg's default reads a zoneless timestamp in the host's zone (Helsinki here, UTC+3 in May).
    expect(parse('2024-05-01 10:00:00').toISOString()).toBe('2024-05-01T07:00:00.000Z');
  });

  it('quotes table and key names: bare parts fold to lower case, quoted parts keep theirs', async () => {
    await sandbox.exec(`CREATE TABLE ${sandbox.name}."Mixed Items" ("itemId" bigint PRIMARY KEY, label text)`);
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.plain (id uuid PRIMARY KEY, label text)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}."Mixed Items" VALUES (7, 'seven'), (8, 'eight')`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.plain VALUES ('6f1c1a4e-1f0a-4c53-9a8e-3f1d2b6c7a10', 'u')`);

    const mixed = familyRule({ name: 'mixed', table: `${sandbox.name.toUpperCase()}."Mixed Items"`, key: ['itemId'] });
    await loader.check?.(mixed);
    expect([...(await loader.load(mixed, ['7', '9', 'x'])).rows.keys()]).toEqual(['7']);

    const plain = familyRule({ name: 'plain', table: `${sandbox.name}.PLAIN` });
    await loader.check?.(plain);
    const batch = await loader.load(plain, ['6f1c1a4e-1f0a-4c53-9a8e-3f1d2b6c7a10', 'not-a-uuid']);
    expect([...batch.rows.keys()]).toEqual(['6f1c1a4e-1f0a-4c53-9a8e-3f1d2b6c7a10']);
  });

  it("keeps the URL's own session options and still makes every session read-only and time-bounded", async () => {
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.opts (id integer PRIMARY KEY)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.opts VALUES (1)`);
    const theirs = `-c search_path=${sandbox.name} -c default_transaction_read_only=off -c statement_timeout=0`;
    const url = `${sandbox.url}${sandbox.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(theirs)}`;
    const own = await createSourceLoader({ name: 'main', kind: 'postgres', url }, { timeoutMs: 2000, maxConnections: 1 });
    try {
      const query =
        "SELECT id, current_setting('search_path') AS sp, current_setting('default_transaction_read_only') AS ro, " +
        "current_setting('statement_timeout') AS st FROM opts WHERE id = ANY($1)";
      const row = (await own.load(familyRule({ name: 'opts', query }), ['1'])).rows.get('1');
      expect(row).toMatchObject({ sp: sandbox.name, ro: 'on', st: '2s' });
    } finally {
      await own.close();
    }
  });

  it('finds every valid id when several in a batch cannot be cast to the key type (table form)', async () => {
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.nums (id integer PRIMARY KEY)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.nums SELECT generate_series(1, 40)`);
    const ids = Array.from({ length: 40 }, (_, i) => (i % 7 === 3 ? `bad${i}` : String(i + 1)));
    const batch = await loader.load(familyRule({ name: 'nums', table: `${sandbox.name}.nums` }), ids);
    expect([...batch.rows.keys()].sort()).toEqual(ids.filter((id) => !id.startsWith('bad')).sort());
  });
});
