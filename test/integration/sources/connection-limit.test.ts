/**
 * A source that accepts fewer connections than the loader's pool may open: the loader runs fewer
 * batches at once instead of failing them (src/sources/connection-cap.ts). A PostgreSQL role WITH
 * CONNECTION LIMIT 3 and a MariaDB account WITH MAX_USER_CONNECTIONS 3, each loaded by 20 batches
 * at once through a pool of 20: every batch returns its rows, and one warning names the cap.
 *
 * Isolation: a throwaway `sc_<hex>` schema / database, and a role / account `sc_cap_<hex>` of its
 * own (the limits are per role / account, so other tests' sessions do not count); all dropped.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { LoaderOptions, SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

const ROWS = 200;
const BATCHES = 20;

interface Warning {
  fields: Record<string, unknown>;
  message: string;
}

function recordingLog(): NonNullable<LoaderOptions['log']> & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (fields, message) => warnings.push({ fields: fields as Record<string, unknown>, message }) };
}

/** 20 batches of 10 ids at once; each must come back with its 10 rows. */
async function loadAllAtOnce(loader: SourceLoader, table: string): Promise<void> {
  const rule = familyRule({ name: 'items', table });
  const batches = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: ROWS / BATCHES }, (__, i) => String(b * (ROWS / BATCHES) + i + 1)));
  const results = await Promise.all(batches.map((ids) => loader.load(rule, ids)));
  results.forEach((result, b) => {
    expect([...result.rows.keys()].sort()).toEqual([...(batches[b] as string[])].sort());
    expect(String(result.rows.get(batches[b]?.[0] as string)?.['name'])).toBe(`item ${b * (ROWS / BATCHES) + 1}`);
  });
}

/** One warning, naming the limit: the refusals of the burst have all come back when it is logged. */
function expectOneCapWarning(warnings: Warning[], source: string): void {
  expect(warnings).toEqual([
    { fields: { source, connections: 3, requested: BATCHES }, message: `source "${source}" accepts only 3 connections: running 3 queries at a time` },
  ]);
}

describe('postgres role WITH CONNECTION LIMIT 3, pool of 20', () => {
  let sandbox: Sandbox;
  const role = `sc_cap_${randomBytes(4).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    sandbox = await createPgSandbox();
    await sandbox.exec(`CREATE TABLE ${sandbox.name}.items (id bigint PRIMARY KEY, name text NOT NULL)`);
    await sandbox.exec(`INSERT INTO ${sandbox.name}.items SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g`);
    await sandbox.exec(`CREATE ROLE ${role} WITH LOGIN CONNECTION LIMIT 3`);
    await sandbox.exec(`GRANT USAGE ON SCHEMA ${sandbox.name} TO ${role}`);
    await sandbox.exec(`GRANT SELECT ON ${sandbox.name}.items TO ${role}`);
    const u = new URL(sandbox.url);
    u.username = role;
    u.password = '';
    url = u.toString();
  });
  afterAll(async () => {
    // A session of the role still open (a failed test) would keep DROP ROLE from succeeding.
    await sandbox?.exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]).catch(() => undefined);
    await sandbox?.exec(`DROP OWNED BY ${role}`).catch(() => undefined);
    await sandbox?.exec(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await sandbox?.drop();
  });

  it('runs 20 batches at once on the 3 connections the role may open, and warns once', async () => {
    const log = recordingLog();
    const loader = await createSourceLoader({ name: 'main', kind: 'postgres', url }, { timeoutMs: 5000, maxConnections: BATCHES, log });
    try {
      await loadAllAtOnce(loader, `${sandbox.name}.items`);
      expectOneCapWarning(log.warnings, 'main');
      // The probes share the cap, and a second round asks for nothing more: no second warning.
      await expect(loader.activity?.()).resolves.toBeGreaterThanOrEqual(0);
      await loadAllAtOnce(loader, `${sandbox.name}.items`);
      expect(log.warnings).toHaveLength(1);
      const sessions = await sandbox.exec('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]);
      expect(sessions[0]?.['n']).toBeLessThanOrEqual(3);
    } finally {
      await loader.close();
    }
  });

  it('still fails clearly when not even one connection opens', async () => {
    await sandbox.exec(`ALTER ROLE ${role} CONNECTION LIMIT 0`);
    try {
      const opening = createSourceLoader({ name: 'main', kind: 'postgres', url }, { timeoutMs: 2000, maxConnections: BATCHES });
      await expect(opening).rejects.toThrow(/^cannot connect to source "main" \(.*\): too many connections for role/);
    } finally {
      await sandbox.exec(`ALTER ROLE ${role} CONNECTION LIMIT 3`);
    }
  });
});

describe('mariadb account WITH MAX_USER_CONNECTIONS 3, pool of 20', () => {
  let sandbox: Sandbox;
  const user = `sc_cap_${randomBytes(4).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    sandbox = await createMysqlSandbox();
    await sandbox.exec('CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL)');
    const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'item ${i + 1}')`).join(', ');
    await sandbox.exec(`INSERT INTO items VALUES ${values}`);
    await sandbox.exec(`CREATE USER '${user}'@'%' WITH MAX_USER_CONNECTIONS 3`);
    await sandbox.exec(`GRANT SELECT ON ${sandbox.name}.* TO '${user}'@'%'`);
    const u = new URL(sandbox.url);
    u.username = user;
    u.password = '';
    url = u.toString();
  });
  afterAll(async () => {
    await sandbox?.exec(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
    await sandbox?.drop();
  });

  it('runs 20 batches at once on the 3 connections the account may open, and warns once', async () => {
    const log = recordingLog();
    const loader = await createSourceLoader({ name: 'shop', kind: 'mysql', url }, { timeoutMs: 5000, maxConnections: BATCHES, log });
    try {
      await loadAllAtOnce(loader, 'items');
      expectOneCapWarning(log.warnings, 'shop');
      await expect(loader.activity?.()).resolves.toBeGreaterThanOrEqual(0);
      await loadAllAtOnce(loader, 'items');
      expect(log.warnings).toHaveLength(1);
    } finally {
      await loader.close();
    }
  });
});
