/**
 * The contract every source loader keeps, run against each real database (kysely-style: one suite
 * looped over every loader). Limit it with SHADOWCHECK_LOADERS=postgres,mysql.
 */
import { isLosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../../src/config/types.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { ConnectionError, ExitCode } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

interface ContractTarget {
  kind: Extract<SourceKind, 'postgres' | 'mysql'>;
  sandbox(): Promise<Sandbox>;
  /** The URL the loader connects with (may add session settings to the sandbox's). */
  loaderUrl(sandbox: Sandbox): string;
  createTable(t: string): string;
  /** `created_tz` literal for 2024-05-01T10:00:00.123Z in this database's syntax. */
  createdAt: string;
  /** SELECT of `t` restricted to the batch, the way a rules file writes it. */
  byIds(t: string, select?: string): string;
  /** A query that sleeps past the loader's timeout before returning the batch. */
  slow(t: string): string;
  /** A query that tries to write (and would return rows if it could). */
  write(t: string): string;
  /** A query returning every row of the batch twice. */
  twice(t: string): string;
  /** The `active` column of a true row, as this driver returns it. */
  /** Kills the server session whose running statement contains `marker`; true when one was. */
  kill(sandbox: Sandbox, marker: string): Promise<boolean>;
  brokenUrl: string;
}

const TARGETS: ContractTarget[] = [
  {
    kind: 'postgres',
    sandbox: createPgSandbox,
    // A session zone far from UTC: timestamptz and now() must not depend on it.
    loaderUrl: (s) => `${s.url}${s.url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c TimeZone=Asia/Tokyo')}`,
    createTable: (t) =>
      `CREATE TABLE ${t} (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2), big bigint, active boolean, ` +
      `updated_at timestamp(3), created_tz timestamptz(3))`,
    createdAt: "'2024-05-01 12:00:00.123+02'",
    byIds: (t, select = '*') => `SELECT ${select} FROM ${t} WHERE id = ANY($1)`,
    slow: (t) => `SELECT * FROM ${t} WHERE id = ANY($1) AND pg_sleep(5) IS NOT NULL`,
    write: (t) => `INSERT INTO ${t} (id, name) SELECT 99, 'written' FROM unnest($1::text[]) LIMIT 1 RETURNING *`,
    twice: (t) => `SELECT i.* FROM ${t} i CROSS JOIN generate_series(1, 2) AS g WHERE i.id = ANY($1) ORDER BY g`,
    kill: async (s, marker) => {
      const rows = await s.exec(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1`,
        [`%${marker}%`],
      );
      return rows.some((r) => r['killed'] === true);
    },
    brokenUrl: 'postgres://shadow:s3cret-pw@127.0.0.1:1/test',
  },
  {
    kind: 'mysql',
    sandbox: createMysqlSandbox,
    loaderUrl: (s) => s.url,
    createTable: (t) =>
      `CREATE TABLE ${t} (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, price DECIMAL(10,2), big BIGINT, active TINYINT(1), ` +
      `updated_at TIMESTAMP(3) NULL, created_tz DATETIME(3)) ENGINE=InnoDB`,
    createdAt: "'2024-05-01 10:00:00.123'",
    byIds: (t, select = '*') => `SELECT ${select} FROM ${t} WHERE id IN (?)`,
    slow: (t) => `SELECT * FROM ${t} WHERE id IN (?) AND SLEEP(5) = 0`,
    write: (t) => `INSERT INTO ${t} (id, name) SELECT 99, 'written' FROM DUAL WHERE 1 NOT IN (?) RETURNING *`,
    twice: (t) => `SELECT i.* FROM ${t} i CROSS JOIN (SELECT 1 AS g UNION ALL SELECT 2) AS g WHERE i.id IN (?) ORDER BY g.g`,
    kill: async (s, marker) => {
      const rows = await s.exec(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE ?`, [`%${marker}%`]);
      for (const row of rows) await s.exec(`KILL CONNECTION ${Number(row['id'])}`);
      return rows.length > 0;
    },
    brokenUrl: 'mysql://shadow:s3cret-pw@127.0.0.1:1/test',
  },
];

const selected = (process.env['SHADOWCHECK_LOADERS'] ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const ENABLED = TARGETS.filter((t) => selected.length === 0 || selected.includes(t.kind));

// Run in a zone far from UTC so that reading a zoneless timestamp in the host's zone would show.
const hostZone = process.env['TZ'];
beforeAll(() => {
  process.env['TZ'] = 'America/Sao_Paulo';
});
afterAll(() => {
  if (hostZone === undefined) delete process.env['TZ'];
  else process.env['TZ'] = hostZone;
});

const OPTIONS = { timeoutMs: 2000, maxConnections: 4 };

for (const target of ENABLED) {
  describe(`${target.kind} loader contract`, () => {
    let sandbox: Sandbox;
    let loader: SourceLoader;
    let items: string;
    const rule = (overrides: Partial<FamilyRule> = {}): FamilyRule =>
      familyRule({ name: 'item', source: target.kind, query: target.byIds(items), ...overrides });
    const spec = (url: string) => ({ name: target.kind, kind: target.kind, url });

    beforeAll(async () => {
      sandbox = await target.sandbox();
      items = sandbox.table('items');
      await sandbox.exec(target.createTable(items));
      await sandbox.exec(
        `INSERT INTO ${items} (id, name, price, big, active, updated_at, created_tz) VALUES ` +
          `(1, 'alpha', 19.90, 9007199254740993, TRUE, '2024-05-01 10:00:00.123', ${target.createdAt}), ` +
          `(2, 'beta', 5.00, 42, FALSE, '2024-05-02 00:00:00', NULL), ` +
          `(3, 'gamma', 0.10, -1, TRUE, NULL, NULL)`,
      );
      loader = await createSourceLoader(spec(target.loaderUrl(sandbox)), OPTIONS);
    });

    afterAll(async () => {
      await loader?.close();
      await sandbox?.drop();
    });

    it('loads the present ids of a batch by query and leaves absent ids out', async () => {
      const batch = await loader.load(rule(), ['1', '3', '404']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '3']);
      expect(batch.rows.get('1')).toMatchObject({ name: 'alpha' });
      expect(batch.duplicateIds).toBeUndefined();
    });

    it('loads the same rows by table form', async () => {
      const batch = await loader.load(rule({ query: undefined, table: items }), ['1', '2', '404']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      expect(batch.rows.get('2')).toMatchObject({ name: 'beta' });
    });

    it("reads the database's clock with the batch", async () => {
      const batch = await loader.load(rule(), ['1']);
      expect(Math.abs(batch.nowMs - Date.now())).toBeLessThan(5000);
      expect(Number.isInteger(batch.nowMs)).toBe(true);
    });

    it('returns BIGINT and DECIMAL as exact numbers (LosslessNumber) keeping every digit and the scale', async () => {
      const row = (await loader.load(rule(), ['1'])).rows.get('1');
      expect(isLosslessNumber(row?.['big'])).toBe(true);
      expect(String(row?.['big'])).toBe('9007199254740993');
      expect(isLosslessNumber(row?.['price'])).toBe(true);
      expect(String(row?.['price'])).toBe('19.90');
      expect(row?.['active']).toBe(true);
    });

    it("reads zoneless timestamps as UTC, whatever the host's zone", async () => {
      expect(new Date(2024, 4, 1).getTimezoneOffset()).not.toBe(0); // the zone switch took effect
      const row = (await loader.load(rule(), ['1'])).rows.get('1');
      expect(row?.['updated_at']).toBeInstanceOf(Date);
      expect((row?.['updated_at'] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
      expect((row?.['created_tz'] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
    });

    it('fails a batch against a missing table with a non-timeout SourceQueryError naming the family', async () => {
      const error = await loader.load(rule({ query: target.byIds(sandbox.table('no_such_table')) }), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as SourceQueryError).timeout).toBe(false);
      expect((error as Error).message).toContain('family "item"');
      // The source is still usable.
      expect((await loader.load(rule(), ['1'])).rows.size).toBe(1);
    });

    it('fails a statement that runs past timeoutMs with SourceQueryError{timeout: true} and stays usable', async () => {
      const quick = await createSourceLoader(spec(target.loaderUrl(sandbox)), { timeoutMs: 300, maxConnections: 1 });
      try {
        const started = Date.now();
        const error = await quick.load(rule({ query: target.slow(items) }), ['1']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SourceQueryError);
        expect((error as SourceQueryError).timeout).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
        expect((await quick.load(rule(), ['1'])).rows.size).toBe(1);
      } finally {
        await quick.close();
      }
    });

    it('check() accepts a working query and a working table', async () => {
      await expect(loader.check?.(rule({ updatedAt: 'updated_at' }))).resolves.toBeUndefined();
      await expect(loader.check?.(rule({ query: undefined, table: items, updatedAt: 'updated_at' }))).resolves.toBeUndefined();
    });

    it('check() rejects a missing column with the family name and exit code 2', async () => {
      for (const bad of [rule({ updatedAt: 'modified_at' }), rule({ query: target.byIds(items, 'id, no_such_column') })]) {
        const error = await loader.check?.(bad).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SourceCheckError);
        expect((error as SourceCheckError).exitCode).toBe(ExitCode.usage);
        expect((error as Error).message).toMatch(/^family "item": .*(modified_at|no_such_column)/);
      }
    });

    it('check() rejects a missing table and a key the result lacks', async () => {
      const missingTable = await loader.check?.(rule({ query: undefined, table: sandbox.table('no_such_table') })).catch((e: unknown) => e);
      expect(missingTable).toBeInstanceOf(SourceCheckError);
      expect((missingTable as Error).message).toMatch(/^family "item": .*no_such_table/);
      const noKey = await loader.check?.(rule({ query: target.byIds(items, 'name') })).catch((e: unknown) => e);
      expect(noKey).toBeInstanceOf(SourceCheckError);
      expect((noKey as Error).message).toContain('"id" (key)');
    });

    it('never writes: a write sent as the query fails as read-only and changes nothing', async () => {
      const error = await loader.load(rule({ query: target.write(items) }), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as Error).message).toMatch(/read[- ]only/i);
      expect(await sandbox.exec(`SELECT id FROM ${items} WHERE id = 99`)).toEqual([]);
    });

    it('keeps the first of two rows for one id and notes the id', async () => {
      const batch = await loader.load(rule({ query: target.twice(items) }), ['1', '2']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      expect([...(batch.duplicateIds ?? [])].sort()).toEqual(['1', '2']);
    });

    it('treats an id the key column cannot hold as absent, without failing the batch (table form)', async () => {
      const batch = await loader.load(rule({ query: undefined, table: items }), ['1', 'not-a-number', '2', '99999999999999999999']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
    });

    it('fails a batch whose result lacks the key column instead of calling every id absent', async () => {
      const error = await loader.load(rule({ query: target.byIds(items, 'name') }), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as Error).message).toContain('no key column "id"');
    });

    it('reports a connection the server kills under a batch as ConnectionError', async () => {
      const victim = await createSourceLoader(spec(target.loaderUrl(sandbox)), { timeoutMs: 10_000, maxConnections: 1 });
      try {
        const marker = `kill_me_${Date.now()}`;
        const pending = victim.load(rule({ query: `${target.slow(items)} AND '${marker}' <> ''` }), ['1']).catch((e: unknown) => e);
        let killed = false;
        for (let i = 0; i < 50 && !killed; i++) {
          await new Promise((r) => setTimeout(r, 50));
          killed = await target.kill(sandbox, marker);
        }
        expect(killed).toBe(true);
        const error = await pending;
        expect(error).toBeInstanceOf(ConnectionError);
        expect((error as ConnectionError).exitCode).toBe(ExitCode.connection);
        expect((error as Error).message).toContain(`source "${target.kind}"`);
      } finally {
        await victim.close();
      }
    });

    it('refuses to start against a closed port with a ConnectionError that redacts the password', async () => {
      const error = await createSourceLoader(spec(target.brokenUrl), OPTIONS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      const message = (error as Error).message;
      expect(message).toContain(`cannot connect to source "${target.kind}"`);
      expect(message).toContain('shadow:***@127.0.0.1:1');
      expect(message).toContain('connection refused');
      expect(message).not.toContain('s3cret');
      expect((error as ConnectionError).hint).toBeDefined();
    });
  });
}
