import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';
import { startCli, type CliRun } from '../faults/fault-helpers.js';

// A private redis-server: INFO commandstats counts the whole server, and other test files run in
// parallel on the shared one.
const KEYS = 3000;
const RATE = 1000;

let server: RedisServer;
let redis: Redis;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.port, '127.0.0.1');
  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int PRIMARY KEY, name text NOT NULL)`);
  await pg.exec(`INSERT INTO ${pg.table('items')} SELECT i, 'item ' || i FROM generate_series(1, ${KEYS}) AS i`);
  const pipe = redis.pipeline();
  for (let id = 1; id <= KEYS; id++) pipe.set(`rate:item:${id}`, JSON.stringify({ id, name: `item ${id}` }), 'EX', 600);
  await pipe.exec();
  dir = await makeTempDir('shadowcheck-rate-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "rate:item:{id}"
    source: main
    table: ${pg.table('items')}
    fields: [name]
    ttl: 600s
`,
  );
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.kill();
  await pg?.drop();
  await dir?.remove();
});

async function calls(name: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

function auditArgs(rate: number, ...extra: string[]): string[] {
  return ['audit', '--rules', rules, '--redis', `redis://127.0.0.1:${server.port}/0`, '--all', '--rate', String(rate), '--format', 'json', '--confirm-delay', '0', ...extra];
}

function logLines(stderr: string): { msg: string; source?: string }[] {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; source?: string });
}

/** Waits until the running audit logs `msg`; fails at once if the audit ends without it. */
async function waitForLog(audit: CliRun, msg: string): Promise<void> {
  await waitFor(
    async () => {
      if (logLines(audit.output().stderr).some((l) => l.msg === msg)) return true;
      if (audit.child.exitCode !== null) throw new Error(`the audit ended without logging "${msg}"\n${audit.output().stderr}`);
      return false;
    },
    20_000,
    `the audit to log "${msg}"`,
  );
}

describe('--rate', () => {
  // The span is timed on Redis's side, from the first SCAN it serves to the last key read, so the
  // CLI's start-up (slow on a loaded machine) does not count. The token bucket holds one second's
  // worth and fills from the start of the run, so up to RATE operations may go in a burst at the
  // first SCAN: the span lies between (2 * KEYS - RATE) / RATE and 2 * KEYS / RATE seconds.
  const nominalMs = ((2 * KEYS) / RATE) * 1000;
  const burstMs = 1000;

  it(`holds within 10%: ${RATE} key operations/s (each key scanned once and read once), beyond a burst of one second's worth`, async () => {
    const scansBefore = await calls('scan');
    const readsBefore = await calls('strlen');
    const audit = startCli(auditArgs(RATE));
    let firstScanAt: number | undefined;
    let lastReadAt: number | undefined;
    try {
      // Redis counts one STRLEN per key read (inside the read script): the reads Redis served.
      while (lastReadAt === undefined && audit.child.exitCode === null) {
        const asked = Date.now();
        const scans = (await calls('scan')) - scansBefore;
        const reads = (await calls('strlen')) - readsBefore;
        const at = (asked + Date.now()) / 2;
        if (firstScanAt === undefined && scans > 0) firstScanAt = at;
        if (reads >= KEYS) lastReadAt = at;
        await sleep(20);
      }
      const result = await audit.done;
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as { summary: { sampled: number; match: number } };
      expect(report.summary).toMatchObject({ sampled: KEYS, match: KEYS });
    } finally {
      audit.kill();
    }
    expect((await calls('strlen')) - readsBefore).toBe(KEYS);
    expect(firstScanAt).toBeDefined();
    expect(lastReadAt).toBeDefined();
    const spanMs = (lastReadAt ?? 0) - (firstScanAt ?? 0);
    // Not faster than the rate allows (counting reads alone would take half the time) ...
    expect(spanMs).toBeGreaterThan((nominalMs - burstMs) * 0.9);
    // ... and not held well below it.
    expect(spanMs).toBeLessThan(nominalMs * 1.1);
  });
});

describe('pausing for a busy source', () => {
  const PAUSING = 'source busy: pausing the audit until it calms down';
  // More sessions than the busy threshold (20% and 2 above the baseline) needs, so that other
  // activity on the shared PostgreSQL server at the baseline does not hide them.
  const BUSY_SESSIONS = 8;

  it('pauses while the database runs more queries than at the start, says so, and finishes', async () => {
    const pgLib = (await import('pg')).default;
    // The busy sessions wait on an advisory lock the holder keeps (PostgreSQL shows them active)
    // until the audit has paused: the busy phase lasts as long as it must, however loaded the machine.
    const lockKey = Math.floor(Math.random() * 2 ** 31);
    const holder = new pgLib.Client({ connectionString: pg.url });
    const busy = Array.from({ length: BUSY_SESSIONS }, () => new pgLib.Client({ connectionString: pg.url }));
    await Promise.all([holder, ...busy].map((c) => c.connect()));
    await holder.query('SELECT pg_advisory_lock($1)', [lockKey]);
    // At 1000 key operations/s the audit of 2 * KEYS operations lasts several seconds, longer than
    // the 2 s between the governor's activity checks.
    const audit = startCli(auditArgs(1000, '--log-level', 'info'));
    let waiting: Promise<unknown> | undefined;
    try {
      // The baseline is measured before the first family is audited: only then does the source get busy.
      await waitForLog(audit, 'auditing family');
      waiting = Promise.all(busy.map((c) => c.query('SELECT pg_advisory_xact_lock_shared($1)', [lockKey])));
      waiting.catch(() => {});
      await waitForLog(audit, PAUSING);
      await holder.query('SELECT pg_advisory_unlock($1)', [lockKey]);
      await waiting;
      const result = await audit.done;
      expect(result.code).toBe(0);
      const logs = logLines(result.stderr);
      expect(logs.find((l) => l.msg === PAUSING)).toMatchObject({ source: 'main' });
      expect(logs.some((l) => l.msg === 'source calm again: resuming')).toBe(true);
      const report = JSON.parse(result.stdout) as { summary: { sampled: number; match: number } };
      expect(report.summary).toMatchObject({ sampled: KEYS, match: KEYS });
    } finally {
      audit.kill();
      // Ending the holder's session releases the lock (if the test failed before unlocking).
      await holder.end();
      await waiting?.catch(() => {});
      await Promise.all(busy.map((c) => c.end()));
    }
  });
});
