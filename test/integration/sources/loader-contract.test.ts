/**
 * The contract every source loader keeps, run against each real loader (kysely-style: one suite
 * looped over every target): PostgreSQL, MySQL, and the example module loader
 * (rules/examples/http-json-loader.js) reading the HTTP JSON API this file serves itself.
 * Limit it with SHADOWCHECK_LOADERS=postgres,mysql,module.
 *
 * Each target says how it fakes the behaviours the suite asks for (a slow batch, a missing
 * relation, duplicate rows...) as family rule fields: SQL for the databases, an API resource
 * (the family's `table`) for the module. Cases that only make sense for SQL (table vs query form,
 * LIMIT 0 checks of columns, a write sent as the query, ids the column type cannot hold) run
 * only for the SQL targets.
 */
import { fileURLToPath } from 'node:url';
import { isLosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../../src/config/types.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { checkFamiliesAgainstSources } from '../../../src/audit/rules-check.js';
import { ConnectionError, ExitCode, RulesError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { ReadOnlyQueryError } from '../../../src/sources/read-only-query.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';
import { freePort } from '../helpers/redis.js';
import { startJsonApi } from './json-api-server.js';

/** Family rule fields that make a loader behave a given way. */
interface Behaviours {
  /** The three rows by id. */
  items: Partial<FamilyRule>;
  /** A relation (or API resource) that does not exist. */
  missing: Partial<FamilyRule>;
  /** Answers only after 5 s. */
  slow: Partial<FamilyRule>;
  /** Every row of the batch twice. */
  twice: Partial<FamilyRule>;
  /** The rows without their key column. */
  noKey: Partial<FamilyRule>;
  /** A batch that stays in flight until `kill(marker)` ends its connection on the server side. */
  killable(marker: string): Partial<FamilyRule>;
}

/** What only SQL targets have: the sandbox, its table, and SQL for the SQL-only cases. */
interface SqlParts {
  sandbox: Sandbox;
  items: string;
  /** SELECT of `t` restricted to the batch, the way a rules file writes it. */
  byIds(t: string, select?: string): string;
  /** A query that tries to write (and would return rows if it could). */
  write(t: string): string;
}

interface Harness {
  /** The spec the loader under test is created from (name = the target's name). */
  spec: SourceSpec;
  behaviours: Behaviours;
  /** Ends the server side of the batch `killable(marker)` started; true when there was one. */
  kill(marker: string): Promise<boolean>;
  sql?: SqlParts;
  close(): Promise<void>;
}

interface ContractTarget {
  name: 'postgres' | 'mysql' | 'module';
  start(): Promise<Harness>;
  /**
   * A spec pointing at a closed port, with user `shadow` and password `s3cret-pw`, and the
   * `host:port` its messages show.
   */
  broken(): Promise<{ spec: SourceSpec; hostPort: string }>;
}

interface SqlDialect {
  kind: 'postgres' | 'mysql';
  sandbox(): Promise<Sandbox>;
  /** The URL the loader connects with (may add session settings to the sandbox's). */
  loaderUrl(sandbox: Sandbox): string;
  createTable(t: string): string;
  /** `created_tz` literal for 2024-05-01T10:00:00.123Z in this database's syntax. */
  createdAt: string;
  byIds(t: string, select?: string): string;
  /** A query that sleeps past the loader's timeout before returning the batch. */
  slow(t: string): string;
  write(t: string): string;
  /** A query returning every row of the batch twice. */
  twice(t: string): string;
  /** Kills the server session whose running statement contains `marker`; true when one was. */
  kill(sandbox: Sandbox, marker: string): Promise<boolean>;
}

const POSTGRES: SqlDialect = {
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
    const rows = await s.exec(`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1`, [
      `%${marker}%`,
    ]);
    return rows.some((r) => r['killed'] === true);
  },
};

const MYSQL: SqlDialect = {
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
};

function sqlTarget(dialect: SqlDialect): ContractTarget {
  return {
    name: dialect.kind,
    broken: async () => ({
      spec: { name: dialect.kind, kind: dialect.kind, url: `${dialect.kind}://shadow:s3cret-pw@127.0.0.1:1/test` },
      hostPort: '127.0.0.1:1',
    }),
    start: async () => {
      const sandbox = await dialect.sandbox();
      const items = sandbox.table('items');
      await sandbox.exec(dialect.createTable(items));
      await sandbox.exec(
        `INSERT INTO ${items} (id, name, price, big, active, updated_at, created_tz) VALUES ` +
          `(1, 'alpha', 19.90, 9007199254740993, TRUE, '2024-05-01 10:00:00.123', ${dialect.createdAt}), ` +
          `(2, 'beta', 5.00, 42, FALSE, '2024-05-02 00:00:00', NULL), ` +
          `(3, 'gamma', 0.10, -1, TRUE, NULL, NULL)`,
      );
      return {
        spec: { name: dialect.kind, kind: dialect.kind, url: dialect.loaderUrl(sandbox) },
        behaviours: {
          items: { query: dialect.byIds(items) },
          missing: { query: dialect.byIds(sandbox.table('no_such_table')) },
          slow: { query: dialect.slow(items) },
          twice: { query: dialect.twice(items) },
          noKey: { query: dialect.byIds(items, 'name') },
          killable: (marker) => ({ query: `${dialect.slow(items)} AND '${marker}' <> ''` }),
        },
        kill: (marker) => dialect.kill(sandbox, marker),
        sql: { sandbox, items, byIds: dialect.byIds, write: dialect.write },
        close: () => sandbox.drop(),
      };
    },
  };
}

const EXAMPLE_LOADER = fileURLToPath(new URL('../../../rules/examples/http-json-loader.js', import.meta.url));

/** The same three rows as the SQL tables, as the API writes them (zone-less updated_at: UTC). */
const API_ROWS = [
  {
    key: { id: '1' },
    json: '{"id":1,"name":"alpha","price":19.90,"big":9007199254740993,"active":true,"updated_at":"2024-05-01T10:00:00.123","created_tz":"2024-05-01T12:00:00.123+02:00"}',
  },
  { key: { id: '2' }, json: '{"id":2,"name":"beta","price":5.00,"big":42,"active":false,"updated_at":"2024-05-02T00:00:00","created_tz":null}' },
  { key: { id: '3' }, json: '{"id":3,"name":"gamma","price":0.10,"big":-1,"active":true,"updated_at":null,"created_tz":null}' },
];

const MODULE_TARGET: ContractTarget = {
  name: 'module',
  // Not port 1: fetch refuses it outright ("bad port"), before trying to connect.
  broken: async () => {
    const port = await freePort();
    return {
      spec: { name: 'module', kind: 'module', module: EXAMPLE_LOADER, url: `http://shadow:s3cret-pw@127.0.0.1:${port}/api` },
      hostPort: `127.0.0.1:${port}`,
    };
  },
  start: async () => {
    const api = await startJsonApi({ rows: API_ROWS, dates: ['updated_at', 'created_tz'] });
    return {
      spec: { name: 'module', kind: 'module', module: EXAMPLE_LOADER, url: api.url },
      behaviours: {
        items: { table: 'items' },
        missing: { table: 'no_such_table' },
        slow: { table: 'items_slow' },
        twice: { table: 'items_twice' },
        noKey: { table: 'items_nokey' },
        killable: (marker) => ({ table: `items_hold_${marker}` }),
      },
      kill: async (marker) => api.kill(marker),
      close: () => api.close(),
    };
  },
};

const TARGETS: ContractTarget[] = [sqlTarget(POSTGRES), sqlTarget(MYSQL), MODULE_TARGET];

const selected = (process.env['SHADOWCHECK_LOADERS'] ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const ENABLED = TARGETS.filter((t) => selected.length === 0 || selected.includes(t.name));

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
  describe(`${target.name} loader contract`, () => {
    let harness: Harness;
    let loader: SourceLoader;
    const rule = (behaviour: Partial<FamilyRule>, overrides: Partial<FamilyRule> = {}): FamilyRule =>
      familyRule({ name: 'item', source: target.name, ...behaviour, ...overrides });
    const items = (overrides: Partial<FamilyRule> = {}) => rule(harness.behaviours.items, overrides);

    beforeAll(async () => {
      harness = await target.start();
      loader = await createSourceLoader(harness.spec, OPTIONS);
    });

    afterAll(async () => {
      await loader?.close();
      await harness?.close();
    });

    it('loads the present ids of a batch and leaves absent ids out', async () => {
      const batch = await loader.load(items(), ['1', '3', '404']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '3']);
      expect(batch.rows.get('1')).toMatchObject({ name: 'alpha' });
      expect(batch.duplicateIds).toBeUndefined();
    });

    it("reads the source's clock with the batch", async () => {
      const batch = await loader.load(items(), ['1']);
      expect(Math.abs(batch.nowMs - Date.now())).toBeLessThan(5000);
      expect(Number.isInteger(batch.nowMs)).toBe(true);
    });

    it('returns BIGINT and DECIMAL as exact numbers (LosslessNumber) keeping every digit and the scale', async () => {
      const row = (await loader.load(items(), ['1'])).rows.get('1');
      expect(isLosslessNumber(row?.['big'])).toBe(true);
      expect(String(row?.['big'])).toBe('9007199254740993');
      expect(isLosslessNumber(row?.['price'])).toBe(true);
      expect(String(row?.['price'])).toBe('19.90');
      // MySQL's TINYINT(1) is the integer it stores (any -128..127), typed bool-int: compared as
      // a boolean only while it holds 0 or 1 (core/compare-by-type.ts).
      expect(row?.['active']).toBe(target.name === 'mysql' ? 1 : true);
    });

    it("reads zoneless timestamps as UTC, whatever the host's zone", async () => {
      expect(new Date(2024, 4, 1).getTimezoneOffset()).not.toBe(0); // the zone switch took effect
      const row = (await loader.load(items(), ['1'])).rows.get('1');
      expect(row?.['updated_at']).toBeInstanceOf(Date);
      expect((row?.['updated_at'] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
      expect((row?.['created_tz'] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
    });

    it('fails a batch against a missing relation with a non-timeout SourceQueryError naming the family, and stays usable', async () => {
      const error = await loader.load(rule(harness.behaviours.missing), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as SourceQueryError).timeout).toBe(false);
      expect((error as Error).message).toContain('family "item"');
      expect((error as Error).message).toContain('no_such_table');
      expect((await loader.load(items(), ['1'])).rows.size).toBe(1);
    });

    it('fails a batch that runs past timeoutMs with SourceQueryError{timeout: true} and stays usable', async () => {
      const quick = await createSourceLoader(harness.spec, { timeoutMs: 300, maxConnections: 1 });
      try {
        const started = Date.now();
        const error = await quick.load(rule(harness.behaviours.slow), ['1']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SourceQueryError);
        expect((error as SourceQueryError).timeout).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
        expect((await quick.load(items(), ['1'])).rows.size).toBe(1);
      } finally {
        await quick.close();
      }
    });

    it('check() accepts a working family and rejects a missing relation with the family name and exit code 2', async () => {
      // The SQL loaders return the result's column types; a module may return nothing.
      const columns = await loader.check?.(items({ updatedAt: 'updated_at' }));
      expect(columns === undefined || columns['id']?.kind === 'integer').toBe(true);
      const error = await loader.check?.(rule(harness.behaviours.missing)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceCheckError);
      expect((error as SourceCheckError).exitCode).toBe(ExitCode.usage);
      expect((error as Error).message).toMatch(/^family "item": .*no_such_table/);
    });

    it('keeps the first of two rows for one id and notes the id', async () => {
      const batch = await loader.load(rule(harness.behaviours.twice), ['1', '2']);
      expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      expect([...(batch.duplicateIds ?? [])].sort()).toEqual(['1', '2']);
    });

    it('fails a batch whose result lacks the key column instead of calling every id absent', async () => {
      const error = await loader.load(rule(harness.behaviours.noKey), ['1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceQueryError);
      expect((error as Error).message).toContain('no key column "id"');
    });

    it('reports a connection the server kills under a batch as ConnectionError naming the source', async () => {
      const victim = await createSourceLoader(harness.spec, { timeoutMs: 10_000, maxConnections: 1 });
      try {
        const marker = `kill_me_${Date.now()}`;
        const pending = victim.load(rule(harness.behaviours.killable(marker)), ['1']).catch((e: unknown) => e);
        let killed = false;
        for (let i = 0; i < 50 && !killed; i++) {
          await new Promise((r) => setTimeout(r, 50));
          killed = await harness.kill(marker);
        }
        expect(killed).toBe(true);
        const error = await pending;
        expect(error).toBeInstanceOf(ConnectionError);
        expect((error as ConnectionError).exitCode).toBe(ExitCode.connection);
        expect((error as Error).message).toContain(`source "${target.name}"`);
      } finally {
        await victim.close();
      }
    });

    it('refuses to start against a closed port with a ConnectionError that redacts the password', async () => {
      const broken = await target.broken();
      const error = await createSourceLoader(broken.spec, OPTIONS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      const message = (error as Error).message;
      expect(message).toContain(`cannot connect to source "${target.name}"`);
      expect(message).toContain(`shadow:***@${broken.hostPort}`);
      expect(message).toContain('connection refused');
      expect(message).not.toContain('s3cret');
      expect((error as ConnectionError).hint).toBeDefined();
    });

    // Not applicable to a loader without SQL, so not registered for it (rather than reported as skipped).
    if (target.name !== 'module') describe('SQL only', () => {
      const sql = (): SqlParts => harness.sql as SqlParts;

      it('loads the same rows by table form', async () => {
        const batch = await loader.load(items({ query: undefined, table: sql().items }), ['1', '2', '404']);
        expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
        expect(batch.rows.get('2')).toMatchObject({ name: 'beta' });
      });

      it('check() accepts a working table', async () => {
        const columns = await loader.check?.(items({ query: undefined, table: sql().items, updatedAt: 'updated_at' }));
        expect(columns?.['id']?.kind).toBe('integer');
        expect(columns?.['price']?.kind).toBe('decimal');
      });

      it('check() rejects a column the query names that does not exist, with the family name and exit code 2', async () => {
        const error = await loader.check?.(items({ query: sql().byIds(sql().items, 'id, no_such_column') })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SourceCheckError);
        expect((error as SourceCheckError).exitCode).toBe(ExitCode.usage);
        expect((error as Error).message).toMatch(/^family "item": .*no_such_column/);
      });

      it('check() rejects a missing table', async () => {
        const missingTable = await loader.check?.(items({ query: undefined, table: sql().sandbox.table('no_such_table') })).catch((e: unknown) => e);
        expect(missingTable).toBeInstanceOf(SourceCheckError);
        expect((missingTable as Error).message).toMatch(/^family "item": .*no_such_table/);
      });

      it("an updatedAt or key the result lacks is a rules error (exit 2) from the columns check() returns", async () => {
        const cases: [FamilyRule, string][] = [
          [items({ updatedAt: 'modified_at' }), '"updatedAt" names "modified_at", which is not a column'],
          [rule(harness.behaviours.noKey), 'the key column "id" is not a column'],
        ];
        for (const [bad, fragment] of cases) {
          const error = await checkFamiliesAgainstSources({ file: 'rules.yaml' }, [bad], new Map([[bad.source, loader]])).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(RulesError);
          expect((error as RulesError).exitCode).toBe(ExitCode.usage);
          expect((error as Error).message).toContain(`rules.yaml (family "item"): ${fragment}`);
        }
      });

      it('never writes: a write given as the query is refused before it is sent (read-only-query.ts) and changes nothing', async () => {
        const error = await loader.load(items({ query: sql().write(sql().items) }), ['1']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ReadOnlyQueryError);
        expect((error as Error).message).toMatch(/the query is not a SELECT \(INSERT statement\); expected one plain SELECT/);
        expect(await sql().sandbox.exec(`SELECT id FROM ${sql().items} WHERE id = 99`)).toEqual([]);
      });

      it('treats an id the key column cannot hold as absent, without failing the batch (table form)', async () => {
        const batch = await loader.load(items({ query: undefined, table: sql().items }), ['1', 'not-a-number', '2', '99999999999999999999']);
        expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
      });
    });
  });
}
