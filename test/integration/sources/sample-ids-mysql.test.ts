/**
 * sampleIds on the MySQL loader (--sampling source) against the real MariaDB, in a throwaway
 * database: each method (seeded hash ranking of a small table, exact lookups of random points of
 * a dense integer key, next-row ranges of a sparse one, the seeded hash threshold for text keys),
 * reproducibility for a seed, the count respected, ids spread over the key range, ids spelled as
 * rowId spells them (a bigint beyond 2^53 exactly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/config/key-pattern.js';
import { UsageError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { CHI2_19_P001, chiSquareOverRows } from '../helpers/chi-square.js';
import { createMysqlSandbox, familyRule, type Sandbox } from '../helpers/db.js';

const ROWS = 20000;


describe('mysql sampleIds', () => {
  let sandbox: Sandbox;
  let loader: SourceLoader;
  const rule = (table: string, extra: Parameters<typeof familyRule>[0] = { name: 'items' }) => familyRule({ ...extra, table: sandbox.table(table) });

  beforeAll(async () => {
    sandbox = await createMysqlSandbox();
    await sandbox.exec('CREATE TABLE digits (d INT)');
    await sandbox.exec('INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
    await sandbox.exec('CREATE TABLE numbers (n INT PRIMARY KEY)');
    await sandbox.exec(
      `INSERT INTO numbers SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d FROM digits a, digits b, digits c, digits e, digits f WHERE f.d < 2`,
    );
    await sandbox.exec('CREATE TABLE dense (id INT PRIMARY KEY, v VARCHAR(10))');
    await sandbox.exec("INSERT INTO dense SELECT n, 'v' FROM numbers");
    await sandbox.exec('CREATE TABLE sparse (id BIGINT PRIMARY KEY)');
    await sandbox.exec('INSERT INTO sparse SELECT n * 1000 + n % 7 FROM numbers');
    await sandbox.exec('CREATE TABLE huge_ids (id BIGINT UNSIGNED PRIMARY KEY)');
    await sandbox.exec('INSERT INTO huge_ids SELECT 9007199254740992 + n FROM numbers');
    await sandbox.exec('CREATE TABLE codes (code VARCHAR(20) PRIMARY KEY)');
    await sandbox.exec("INSERT INTO codes SELECT CONCAT('c-', n) FROM numbers");
    await sandbox.exec('CREATE TABLE small (id INT PRIMARY KEY)');
    await sandbox.exec('INSERT INTO small SELECT n FROM numbers WHERE n <= 300');
    await sandbox.exec('CREATE TABLE few (id INT PRIMARY KEY)');
    await sandbox.exec('INSERT INTO few SELECT n FROM numbers WHERE n <= 30');
    await sandbox.exec('CREATE TABLE pairs (tenant VARCHAR(5), id INT, PRIMARY KEY (tenant, id))');
    await sandbox.exec("INSERT INTO pairs SELECT CONCAT('t', n % 3), n FROM numbers WHERE n <= 90");
    await sandbox.exec('CREATE TABLE empty (id INT PRIMARY KEY)');
    await sandbox.exec('ANALYZE TABLE dense, sparse, huge_ids, codes, small, few, pairs, empty');
    loader = await createSourceLoader({ name: 'shop', kind: 'mysql', url: sandbox.url }, { timeoutMs: 10_000, maxConnections: 2 });
  }, 60_000);
  afterAll(async () => {
    await loader?.close();
    await sandbox?.drop();
  });

  it('looks up random points of a dense integer key exactly: the count, the same ids for a seed, uniform', async () => {
    const first = await loader.sampleIds!(rule('dense'), 500, 7);
    const again = await loader.sampleIds!(rule('dense'), 500, 7);
    const other = await loader.sampleIds!(rule('dense'), 500, 8);
    expect(first.method).toMatch(/looked up exactly/);
    expect(first.tableRows).toBeGreaterThan(ROWS / 2);
    expect(first.ids).toHaveLength(500);
    expect(new Set(first.ids).size).toBe(500);
    expect(first.ids.every((id) => /^\d+$/.test(id) && Number(id) >= 1 && Number(id) <= ROWS)).toBe(true);
    expect(again.ids).toEqual(first.ids);
    expect(other.ids).not.toEqual(first.ids);
    expect(chiSquareOverRows(first.ids.map(Number), ROWS)).toBeLessThan(CHI2_19_P001);
    expect(chiSquareOverRows(other.ids.map(Number), ROWS)).toBeLessThan(CHI2_19_P001);
  });

  it('spells a bigint key beyond 2^53 exactly', async () => {
    const got = await loader.sampleIds!(rule('huge_ids'), 200, 3);
    expect(got.ids).toHaveLength(200);
    for (const id of got.ids) {
      const offset = BigInt(id) - 9007199254740992n;
      expect(offset >= 1n && offset <= BigInt(ROWS)).toBe(true);
    }
    expect(got.ids.some((id) => BigInt(id) % 2n === 1n)).toBe(true);
  });

  it('takes the next row after random points of a sparse integer key, and says it favours rows after gaps', async () => {
    const first = await loader.sampleIds!(rule('sparse'), 500, 5);
    const again = await loader.sampleIds!(rule('sparse'), 500, 5);
    expect(first.method).toMatch(/sparse.*gaps/);
    expect(first.ids).toHaveLength(500);
    expect(new Set(first.ids).size).toBe(500);
    expect(again.ids).toEqual(first.ids);
    const rowNumbers = first.ids.map((id) => Math.floor(Number(id) / 1000));
    expect(rowNumbers.every((n, i) => Number(first.ids[i]) === n * 1000 + (n % 7))).toBe(true);
    // Gaps here are all ~1000 wide: the draw is near-uniform.
    expect(chiSquareOverRows(rowNumbers, ROWS)).toBeLessThan(CHI2_19_P001);
  });

  it('keeps text-keyed rows by a seeded hash threshold: the count, reproducible, uniform', async () => {
    const first = await loader.sampleIds!(rule('codes', { name: 'codes', key: ['code'] }), 500, 9);
    const again = await loader.sampleIds!(rule('codes', { name: 'codes', key: ['code'] }), 500, 9);
    expect(first.method).toMatch(/hash.*every row/);
    expect(first.ids).toHaveLength(500);
    expect(new Set(first.ids).size).toBe(500);
    expect(first.ids.every((id) => /^c-\d+$/.test(id))).toBe(true);
    expect(again.ids).toEqual(first.ids);
    expect(chiSquareOverRows(first.ids.map((id) => Number(id.slice(2))), ROWS)).toBeLessThan(CHI2_19_P001);
  });

  it('ranks a small table by a seeded hash, and returns every row of a table with fewer rows than asked', async () => {
    const small = await loader.sampleIds!(rule('small'), 100, 2);
    expect(small.method).toMatch(/seeded hash/);
    expect(small.ids).toHaveLength(100);
    expect(new Set(small.ids.map((id) => Math.floor((Number(id) - 1) / 100))).size).toBe(3);
    expect((await loader.sampleIds!(rule('small'), 100, 2)).ids).toEqual(small.ids);
    const few = await loader.sampleIds!(rule('few'), 100, 1);
    expect(few.tableRows).toBe(30);
    expect([...few.ids].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    expect((await loader.sampleIds!(rule('empty'), 10, 1)).ids).toEqual([]);
  });

  it('spells a composite key as rowId does (a JSON array of the parts)', async () => {
    const pairs = rule('pairs', { name: 'pairs', key: ['tenant', 'id'], pattern: compilePattern('pairs:{tenant}:{id}') });
    const got = await loader.sampleIds!(pairs, 20, 5);
    expect(got.ids).toHaveLength(20);
    for (const id of got.ids) {
      const [tenant, n] = JSON.parse(id) as [string, string];
      expect(tenant).toBe(`t${Number(n) % 3}`);
    }
  });

  it('refuses a family without a table (a query cannot be sampled)', async () => {
    const query = familyRule({ name: 'q', query: 'SELECT 1 AS id WHERE 1 IN (?)' });
    await expect(loader.sampleIds!(query, 10, 1)).rejects.toBeInstanceOf(UsageError);
  });
});
