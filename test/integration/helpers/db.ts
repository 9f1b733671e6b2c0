/**
 * Throwaway databases for integration tests: a fresh PostgreSQL schema or MySQL database named
 * `sc_<random>`, dropped afterwards. Nothing else on the servers is touched.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { compilePattern } from '../../../src/config/key-pattern.js';
import type { FamilyRule } from '../../../src/core/rule.js';

export const PG_URL = process.env['SHADOWCHECK_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['SHADOWCHECK_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

export interface Sandbox {
  /** The URL a loader under test connects with. */
  url: string;
  /** Name of the sandbox schema (pg) or database (mysql). */
  name: string;
  /** A table name as a rules file would write it (`sc_x.items` for pg, `items` for mysql). */
  table(name: string): string;
  /** Runs SQL on the sandbox's admin connection (in UTC), returning the rows. */
  exec(sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

function sandboxName(): string {
  return `sc_${randomBytes(5).toString('hex')}`;
}

export async function createPgSandbox(): Promise<Sandbox> {
  const name = sandboxName();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query("SET TimeZone = 'UTC'");
  await admin.query(`CREATE SCHEMA ${name}`);
  return {
    url: PG_URL,
    name,
    table: (table) => `${name}.${table}`,
    exec: async (sql, values) => (await admin.query(sql, values as unknown[] | undefined)).rows as Record<string, unknown>[],
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

export async function createMysqlSandbox(): Promise<Sandbox> {
  const name = sandboxName();
  const admin = await mysql.createConnection({ uri: MYSQL_URL, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
  await admin.query("SET time_zone = '+00:00'");
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.query(`USE ${name}`);
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    table: (table) => table,
    exec: async (sql, values) => {
      const [rows] = await admin.query(sql, values);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    drop: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A family rule with test defaults; only the fields a loader reads matter. */
export function familyRule(overrides: Partial<FamilyRule> & Pick<FamilyRule, 'name'>): FamilyRule {
  return {
    pattern: compilePattern(`${overrides.name}:{id}`),
    type: 'string',
    codec: 'json',
    source: 'main',
    key: ['id'],
    ttlMs: 300_000,
    maxStalenessMs: 300_000,
    clockSkewMs: 1000,
    normalize: {},
    redact: [],
    ...overrides,
  };
}
