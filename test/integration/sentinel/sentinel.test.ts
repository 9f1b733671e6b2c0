/**
 * The Sentinel reader against a real topology started for this file: a master, one replica
 * (--replicaof) and one sentinel monitoring them, each a throwaway redis-server on a free port,
 * all killed in afterAll. The master is seeded with the demo plan (the demo's rows go to a
 * throwaway `sc_<hex>` PostgreSQL schema and MariaDB database, dropped afterwards), then audited
 * through the sentinel URL, in-process with performAudit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheReader } from '../../../src/cache/index.js';
import { parseSentinelUrl } from '../../../src/cache/redis-sentinel.js';
import type { CacheReader } from '../../../src/cache/types.js';
import { performAudit } from '../../../src/audit/session.js';
import { loadRulesFile } from '../../../src/config/load.js';
import type { Finding } from '../../../src/core/verdict.js';
import { buildDemoPlan, type DemoPlan } from '../../../src/demo/plan.js';
import { seedDemo } from '../../../src/demo/seed.js';
import { ConnectionError, ExitCode, UsageError } from '../../../src/errors.js';
import { DEMO_FAMILIES } from '../helpers/demo-families.js';
import { MYSQL_URL, PG_URL } from '../helpers/db.js';
import { freePort, REDIS_HOST, waitFor } from '../helpers/redis.js';
import { adminClient, commandCalls, plainArgs, startRedisProcess, stopAll, type RedisProcess } from './servers.js';

const MASTER_NAME = 'mymaster';

const FAMILIES = DEMO_FAMILIES;

let master: RedisProcess;
let replica: RedisProcess;
let sentinel: RedisProcess;
let masterAdmin: Redis;
let replicaAdmin: Redis;
let sentinelUrl: string;
const schema = `sc_${randomBytes(5).toString('hex')}`;
let plan: DemoPlan;

beforeAll(async () => {
  master = await startRedisProcess({ args: plainArgs });
  replica = await startRedisProcess({ args: (port, dir) => [...plainArgs(port, dir), '--replicaof', REDIS_HOST, String(master.port)] });
  masterAdmin = await adminClient(master.port);
  replicaAdmin = await adminClient(replica.port);
  await waitFor(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 15_000, 'the replica to sync with the master', 100);
  // Started after the replica is attached: the sentinel's first INFO of the master lists it. The
  // down-after time is long enough that a master slowed by a busy machine is never failed over
  // mid-test (discovery does not wait for it).
  sentinel = await startRedisProcess({
    mode: ['--sentinel'],
    config: (port, dir) =>
      [
        `port ${port}`,
        `bind ${REDIS_HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} ${REDIS_HOST} ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 10000`,
        `sentinel failover-timeout ${MASTER_NAME} 60000`,
        '',
      ].join('\n'),
    args: () => [],
  });
  const sentinelAdmin = await adminClient(sentinel.port);
  try {
    await waitFor(
      async () => {
        const addr = (await sentinelAdmin.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as string[] | null;
        const replicas = (await sentinelAdmin.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
        const flags = replicas.map((r) => r[r.indexOf('flags') + 1] ?? '');
        return addr?.[1] === String(master.port) && flags.length === 1 && flags[0] === 'slave';
      },
      20_000,
      'the sentinel to see the master and its replica',
      100,
    );
  } finally {
    sentinelAdmin.disconnect();
  }
  sentinelUrl = `redis+sentinel://${REDIS_HOST}:${sentinel.port}/${MASTER_NAME}`;

  plan = buildDemoPlan();
  // As in the demo verdicts test: matching keys with a few seconds of TTL could expire on a busy
  // machine before they are read; a match is decided before any TTL step, so 55 s changes nothing.
  for (const entry of plan.entries) {
    if (!plan.expected.has(entry.key) && entry.ttlS !== null && entry.ttlS < 30) entry.ttlS = 55;
  }
  await seedDemo(plan, { redisUrl: `redis://${REDIS_HOST}:${master.port}/0`, postgresUrl: PG_URL, mysqlUrl: MYSQL_URL, schema });
  const size = await masterAdmin.dbsize();
  await waitFor(async () => (await replicaAdmin.dbsize()) === size, 15_000, 'the replica to hold the seeded keys', 50);
}, 60_000);

afterAll(async () => {
  masterAdmin?.disconnect();
  replicaAdmin?.disconnect();
  await stopAll();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const my = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await my.query(`DROP DATABASE IF EXISTS ${schema}`);
  } finally {
    await client.end();
    await my.end();
  }
});

function label(j: { verdict: string; reason?: string | undefined }): string {
  return j.reason === undefined ? j.verdict : `${j.verdict}/${j.reason}`;
}

describe('audit through redis+sentinel://', () => {
  it('judges the demo plan key by key exactly as planned, and the report names the master it resolved', async () => {
    const config = await loadRulesFile('rules/demo.yaml', { ...process.env, SHADOWCHECK_DEMO_SCHEMA: schema, SHADOWCHECK_DEMO_POSTGRES_URL: PG_URL, SHADOWCHECK_DEMO_MYSQL_URL: MYSQL_URL });
    const dir = await mkdtemp(join(tmpdir(), 'sc-sentinel-'));
    const findings = new Map<string, Finding>();
    try {
      const output = join(dir, 'report.json');
      const code = await performAudit({
        config,
        redisUrl: sentinelUrl,
        familyNames: [],
        audit: { sample: 'all', seed: 1, batch: 200, scanCount: 500, concurrency: 2, confirmDelayMs: 0, maxValueBytes: 1024 * 1024 },
        timeoutMs: 10_000,
        format: 'json',
        outputFile: output,
        gate: { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.05 },
        color: false,
        sinks: [{ onFinding: (finding) => void findings.set(finding.key, finding) }],
      });
      const report = JSON.parse(await readFile(output, 'utf8')) as { target: { redis: string }; summary: { unmatched: number } };
      expect(report.target.redis).toBe(`redis+sentinel://${REDIS_HOST}:${sentinel.port}/${MASTER_NAME} (master ${REDIS_HOST}:${master.port})`);
      // The plan has divergent keys: the gate fails, and nothing else went wrong.
      expect(code).toBe(ExitCode.gateFailed);
      // The plan's one unmatched key and the demo's owner marker (`shadowcheck-demo:owner`): since
      // issue 16, unmatched counts every key of the keyspace that no family covers.
      expect(report.summary.unmatched).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const mismatches: string[] = [];
    let judged = 0;
    for (const entry of plan.entries) {
      if (!FAMILIES.some(([, pattern]) => pattern.test(entry.key))) continue;
      judged++;
      const expected = plan.expected.get(entry.key) ?? { verdict: 'match' };
      const got = findings.get(entry.key);
      if (got === undefined) mismatches.push(`${entry.key}: no finding (expected ${label(expected)})`);
      else if (label(got) !== label(expected)) mismatches.push(`${entry.key}: expected ${label(expected)}, got ${label(got)}`);
    }
    expect(mismatches).toEqual([]);
    expect(findings.size).toBe(judged);
    expect([...findings.values()].filter((f) => f.verdict === 'divergent').length).toBeGreaterThan(0);
  }, 40_000);
});

describe('reading from the replica (readFrom: replica)', () => {
  it('sends the reads to the replica, not the master, and reads the same values', async () => {
    const keys = plan.entries.filter((e) => e.kind === 'string').slice(0, 50).map((e) => Buffer.from(e.key));
    const readsOn = async (client: Redis) =>
      (await commandCalls(client, 'eval_ro')) + (await commandCalls(client, 'getrange')) + (await commandCalls(client, 'scan')) + (await commandCalls(client, 'dbsize'));
    const masterBefore = await readsOn(masterAdmin);
    const replicaBefore = await readsOn(replicaAdmin);

    let reader: CacheReader | undefined;
    let fromReplica;
    let scanned = 0;
    try {
      reader = await createCacheReader(sentinelUrl, { timeoutMs: 5000, readFrom: 'replica' });
      expect(reader.target).toBe(`redis+sentinel://${REDIS_HOST}:${sentinel.port}/${MASTER_NAME} (replica ${REDIS_HOST}:${replica.port})`);
      fromReplica = await reader.read(keys, 'string', 1024 * 1024);
      for await (const batch of reader.scan('demo:user:*', 500)) scanned += batch.length;
      expect(await reader.size()).toBe(await replicaAdmin.dbsize());
    } finally {
      await reader?.close();
    }
    expect(await readsOn(replicaAdmin)).toBeGreaterThanOrEqual(replicaBefore + 3);
    expect(await readsOn(masterAdmin)).toBe(masterBefore);

    const masterReader = await createCacheReader(sentinelUrl, { timeoutMs: 5000 });
    try {
      expect(masterReader.target).toContain(`(master ${REDIS_HOST}:${master.port})`);
      const fromMaster = await masterReader.read(keys, 'string', 1024 * 1024);
      const values = (reads: typeof fromMaster) => reads.map((r) => (r.kind === 'present' ? `${r.redisType}:${String(r.value)}` : r.kind));
      expect(values(fromReplica)).toEqual(values(fromMaster));
      expect(values(fromMaster).filter((v) => v.startsWith('string:')).length).toBeGreaterThan(40);
    } finally {
      await masterReader.close();
    }
    expect(scanned).toBeGreaterThanOrEqual(plan.entries.filter((e) => e.key.startsWith('demo:user:')).length);
  }, 30_000);
});

describe('random keys and EXISTS through redis+sentinel:// (--sampling random, source)', () => {
  it('draws keys of the seeded plan with RANDOMKEY and checks them with EXISTS, on the replica when asked', async () => {
    const before = await commandCalls(replicaAdmin, 'randomkey');
    const reader = await createCacheReader(sentinelUrl, { timeoutMs: 5000, readFrom: 'replica' });
    try {
      const keys = await reader.randomKeys!(200);
      expect(keys).toHaveLength(200);
      const planned = new Set(plan.entries.map((e) => e.key));
      expect(keys.map((k) => k.toString()).filter((k) => !planned.has(k))).toEqual([]);
      expect(await reader.exists!([keys[0] as Buffer, Buffer.from('demo:no-such-key')])).toEqual([true, false]);
    } finally {
      await reader.close();
    }
    expect(await commandCalls(replicaAdmin, 'randomkey')).toBe(before + 200);
  });
});

describe('sentinel failures are connection errors that say what failed', () => {
  it('an unknown master name: no sentinel knows it (exit 3)', async () => {
    const attempt = createCacheReader(`redis+sentinel://${REDIS_HOST}:${sentinel.port}/nosuchmaster`, { timeoutMs: 2000 });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(/^no sentinel of redis\+sentinel:\/\/127\.0\.0\.1:\d+\/nosuchmaster knows a master named "nosuchmaster" \(127\.0\.0\.1:\d+: no such master\)$/);
  });

  it('no sentinel listening: cannot reach any sentinel, naming each address (exit 3)', async () => {
    const nobody = await freePort();
    const attempt = createCacheReader(`redis+sentinel://${REDIS_HOST}:${nobody}/${MASTER_NAME}`, { timeoutMs: 2000 });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    await expect(attempt).rejects.toThrow(new RegExp(`cannot reach any sentinel of .*\\(${REDIS_HOST}:${nobody}: .*ECONNREFUSED`));
  });

  it('a dead sentinel first in the list is skipped for the next one', async () => {
    const nobody = await freePort();
    const reader = await createCacheReader(`redis+sentinel://${REDIS_HOST}:${nobody},${REDIS_HOST}:${sentinel.port}/${MASTER_NAME}`, { timeoutMs: 2000 });
    try {
      expect(reader.target).toBe(`redis+sentinel://${REDIS_HOST}:${nobody},${REDIS_HOST}:${sentinel.port}/${MASTER_NAME} (master ${REDIS_HOST}:${master.port})`);
      expect(await reader.size()).toBe(await masterAdmin.dbsize());
    } finally {
      await reader.close();
    }
  });

  it('a login the master refuses: the error names the master and never shows the password', async () => {
    const attempt = createCacheReader(`redis+sentinel://nobody:hunter2secret@${REDIS_HOST}:${sentinel.port}/${MASTER_NAME}`, { timeoutMs: 2000 });
    await expect(attempt).rejects.toBeInstanceOf(ConnectionError);
    const error = (await attempt.catch((e: unknown) => e)) as ConnectionError;
    expect(error.message).toMatch(/^cannot connect to the master of "mymaster" found through redis\+sentinel:\/\/nobody:\*\*\*@127\.0\.0\.1:\d+\/mymaster: WRONGPASS/);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('hunter2secret');
  });

  it('CA files with a plain sentinel URL are a usage error (exit 2): the user expects TLS', async () => {
    await expect(createCacheReader(sentinelUrl, { timeoutMs: 2000, tls: { caFile: '/nonexistent/ca.pem' } })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('parseSentinelUrl', () => {
  it('reads sentinels, master name, db and both passwords; the redacted form hides the passwords', () => {
    const url = parseSentinelUrl('redis+sentinel://app:s%40cret@h1:26380,h2,[::1]:26381/my%20master/3?sentinelPassword=sp&sentinelUsername=watcher');
    expect(url).toMatchObject({
      secure: false,
      sentinels: [
        { host: 'h1', port: 26380 },
        { host: 'h2', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'my master',
      db: 3,
      username: 'app',
      password: 's@cret',
      sentinelUsername: 'watcher',
      sentinelPassword: 'sp',
    });
    expect(url.redacted).toBe('redis+sentinel://app:***@h1:26380,h2:26379,[::1]:26381/my%20master/3?sentinelUsername=watcher&sentinelPassword=***');
    expect(url.redacted).not.toMatch(/s%40cret|s@cret|=sp\b/);
  });

  it('a password holding an unencoded @ ends at the last @, as WHATWG URL reads it: no part of it becomes a sentinel address', () => {
    // Found by the CLI fuzz test: `Wv4Jy@127.0.0.1` was read as a host, and the connection error printed it.
    const url = parseSentinelUrl('redis+sentinel://:Qz7Kx@Wv4Jy@127.0.0.1:1/0');
    expect(url).toMatchObject({ password: 'Qz7Kx@Wv4Jy', sentinels: [{ host: '127.0.0.1', port: 1 }], masterName: '0' });
    expect(url.redacted).toBe('redis+sentinel://:***@127.0.0.1:1/0');
  });

  it('rediss+sentinel is TLS; a password without a user is kept', () => {
    const url = parseSentinelUrl('rediss+sentinel://:pw@h1:1/m');
    expect(url).toMatchObject({ secure: true, password: 'pw', db: 0 });
    expect(url.username).toBeUndefined();
    expect(url.redacted).toBe('rediss+sentinel://:***@h1:1/m');
  });

  it.each([
    ['redis+sentinel://h1:26379', /no master name/],
    ['redis+sentinel:///m', /no sentinel address/],
    ['redis+sentinel://h1:99999/m', /out of range/],
    ['redis+sentinel://h1/m/x', /database "x" is not a number/],
    ['redis+sentinel://h1/m?password=hunter2', /unknown parameter "password"/],
  ])('%s is a usage error', (text, message) => {
    expect(() => parseSentinelUrl(text)).toThrow(UsageError);
    expect(() => parseSentinelUrl(text)).toThrow(message);
    expect(() => parseSentinelUrl(text)).not.toThrow(/hunter2/);
  });
});
