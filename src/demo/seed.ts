import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ConnectionError, UsageError } from '../errors.js';
import { redactUrl } from '../util/redact-url.js';
import { DEMO_PREFIX, type CacheEntry, type DemoPlan } from './plan.js';
import { seedCollectionsMysql, seedCollectionsPostgres } from './seed-collections.js';

/**
 * Writes the demo dataset. This module is the only code in shadowcheck that writes, and it writes
 * only to what the demo owns: the PostgreSQL schema and MariaDB database `shadowcheck_demo` (or
 * SHADOWCHECK_DEMO_SCHEMA), and a
 * Redis logical database that is empty or carries the demo's owner key.
 */
export interface DemoTargets {
  redisUrl: string;
  postgresUrl: string;
  mysqlUrl: string;
  /** PostgreSQL schema and MariaDB database the demo owns (tests use a throwaway one). */
  schema: string;
}
const OWNER_KEY = 'shadowcheck-demo:owner';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function demoTargets(env: NodeJS.ProcessEnv = process.env): DemoTargets {
  return {
    redisUrl: env['SHADOWCHECK_DEMO_REDIS_URL'] ?? 'redis://127.0.0.1:6379/13',
    postgresUrl: env['SHADOWCHECK_DEMO_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    mysqlUrl: env['SHADOWCHECK_DEMO_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test',
    schema: env['SHADOWCHECK_DEMO_SCHEMA'] ?? 'shadowcheck_demo',
  };
}

const START_HINTS = {
  Redis: "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no",
  PostgreSQL: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  MariaDB: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
} as const;

const URL_VARIABLES = {
  Redis: 'SHADOWCHECK_DEMO_REDIS_URL',
  PostgreSQL: 'SHADOWCHECK_DEMO_POSTGRES_URL',
  MariaDB: 'SHADOWCHECK_DEMO_MYSQL_URL',
} as const;

async function connect<T>(service: keyof typeof START_HINTS, url: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    const reason = error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error);
    // A URL the user chose is theirs to check; the local default is ours to explain how to start.
    const chosen = process.env[URL_VARIABLES[service]] !== undefined;
    throw new ConnectionError(`the demo needs ${service}, which is not reachable at ${redactUrl(url)}: ${reason}`, {
      hint: chosen ? `check ${URL_VARIABLES[service]}` : `start it with: ${START_HINTS[service]}`,
      cause: error,
    });
  }
}

export async function seedDemo(plan: DemoPlan, targets: DemoTargets): Promise<void> {
  if (!IDENTIFIER.test(targets.schema)) {
    throw new UsageError(`SHADOWCHECK_DEMO_SCHEMA "${targets.schema}": expected a lower-case SQL identifier like shadowcheck_demo`);
  }
  // Each client is closed in `finally`, including those opened before a later one failed:
  // a client left open would keep the process alive after the error was printed.
  let redis: Redis | undefined;
  let pgClient: pg.Client | undefined;
  let my: mysql.Connection | undefined;
  try {
    redis = await connect('Redis', targets.redisUrl, async () => {
      const client = new Redis(targets.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw error;
      }
      return client;
    });
    await claimRedisDatabase(redis, targets.redisUrl);
    pgClient = await connect('PostgreSQL', targets.postgresUrl, async () => {
      const client = new pg.Client({ connectionString: targets.postgresUrl, connectionTimeoutMillis: 3000 });
      client.on('error', () => {});
      await client.connect();
      return client;
    });
    my = await connect('MariaDB', targets.mysqlUrl, () => mysql.createConnection({ uri: targets.mysqlUrl, connectTimeout: 3000 }));
    await seedPostgres(pgClient, plan, targets.schema);
    await seedMysql(my, plan, targets.schema);
    await writeDemoEntries(redis, plan);
  } finally {
    redis?.disconnect();
    await pgClient?.end().catch(() => {});
    await my?.end().catch(() => {});
  }
}

/** Refuses to touch a Redis database that holds someone else's keys. */
async function claimRedisDatabase(redis: Redis, url: string): Promise<void> {
  const owned = (await redis.exists(OWNER_KEY)) === 1;
  if (!owned && (await redis.dbsize()) > 0) {
    throw new UsageError(`the demo's Redis database ${redactUrl(url)} already holds keys that are not the demo's; it will not touch them`, {
      hint: 'point SHADOWCHECK_DEMO_REDIS_URL at an empty logical database (`redis-cli INFO keyspace` lists the ones in use)',
    });
  }
  await redis.set(OWNER_KEY, 'this logical database belongs to `shadowcheck demo`');
}

async function seedPostgres(client: pg.Client, plan: DemoPlan, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(`DROP TABLE IF EXISTS ${schema}.users, ${schema}.account_limits`);
  await client.query(`CREATE TABLE ${schema}.users (
    id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, plan text NOT NULL,
    version integer NOT NULL, updated_at timestamptz(3) NOT NULL)`);
  await client.query(`CREATE TABLE ${schema}.account_limits (
    account_id integer PRIMARY KEY, plan text NOT NULL, monthly_api_limit bigint NOT NULL, api_calls_used integer NOT NULL)`);
  const u = plan.users;
  await client.query(
    `INSERT INTO ${schema}.users (id, name, email, plan, version, updated_at)
     SELECT id, name, email, plan, version, now() - make_interval(secs => ago)
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[]) AS t(id, name, email, plan, version, ago)`,
    [u.map((r) => r.id), u.map((r) => r.name), u.map((r) => r.email), u.map((r) => r.plan), u.map((r) => r.version), u.map((r) => r.changedAgoS)],
  );
  const a = plan.accounts;
  await client.query(
    `INSERT INTO ${schema}.account_limits (account_id, plan, monthly_api_limit, api_calls_used)
     SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::int[])`,
    [a.map((r) => r.accountId), a.map((r) => r.plan), a.map((r) => r.monthlyApiLimit), a.map((r) => r.apiCallsUsed)],
  );
  await seedCollectionsPostgres(client, plan.collections, schema);
}

async function seedMysql(conn: mysql.Connection, plan: DemoPlan, schema: string): Promise<void> {
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${schema}`);
  await conn.query(`DROP TABLE IF EXISTS ${schema}.products`);
  await conn.query(`CREATE TABLE ${schema}.products (
    sku VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL, price DECIMAL(10,2) NOT NULL,
    in_stock TINYINT(1) NOT NULL, updated_at DATETIME(3) NOT NULL)`);
  const rows = plan.products.map((p) => [p.sku, p.name, p.price, p.inStock ? 1 : 0, p.changedAgoS]);
  // Times are UTC (UTC_TIMESTAMP), as the mysql loader reads DATETIME.
  await conn.query(
    `INSERT INTO ${schema}.products (sku, name, price, in_stock, updated_at)
     SELECT sku, name, price, in_stock, UTC_TIMESTAMP(3) - INTERVAL ago SECOND FROM JSON_TABLE(?, '$[*]' COLUMNS (
       sku VARCHAR(32) PATH '$[0]', name VARCHAR(200) PATH '$[1]', price DECIMAL(10,2) PATH '$[2]',
       in_stock TINYINT PATH '$[3]', ago INT PATH '$[4]')) AS t`,
    [JSON.stringify(rows)],
  );
  await seedCollectionsMysql(conn, plan.collections, schema);
}

/** Writes the plan's cache entries (clearing the previous run's demo keys first). */
export async function writeDemoEntries(redis: Redis, plan: DemoPlan): Promise<void> {
  // Clear the previous run's keys (only the demo's prefix), so running the demo twice works.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${DEMO_PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');

  const pipe = redis.pipeline();
  for (const entry of plan.entries) writeEntry(pipe, entry);
  const replies = await pipe.exec();
  const failed = replies?.find(([error]) => error !== null);
  if (failed?.[0]) throw failed[0];
}

/** The commands that hold an entry's value and expiry (on a pipeline, a client or a cluster client). */
interface EntryWriter {
  set(key: string, value: string): unknown;
  hset(key: string, value: Record<string, string>): unknown;
  rpush(key: string, ...values: string[]): unknown;
  sadd(key: string, ...values: string[]): unknown;
  zadd(key: string, ...scoresAndMembers: string[]): unknown;
  pexpire(key: string, ms: number): unknown;
}

/**
 * Issues one entry's commands, value then expiry, without waiting (so a pipeline queues them in
 * order); returns their replies, promises on a client: `await Promise.all(writeEntry(client, e))`.
 */
export function writeEntry(redis: EntryWriter, entry: CacheEntry): unknown[] {
  const replies: unknown[] = [];
  if (entry.kind === 'string') replies.push(redis.set(entry.key, entry.value));
  else if (entry.kind === 'hash') replies.push(redis.hset(entry.key, entry.value));
  else if (entry.kind === 'list') replies.push(redis.rpush(entry.key, ...entry.value));
  else if (entry.kind === 'set') replies.push(redis.sadd(entry.key, ...entry.value));
  else replies.push(redis.zadd(entry.key, ...entry.value.flatMap((m) => [m.score, m.member])));
  if (entry.ttlS !== null) replies.push(redis.pexpire(entry.key, entry.ttlS * 1000));
  return replies;
}
