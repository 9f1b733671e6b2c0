import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';

// `explain` must judge every key as `audit` did, reading through the same lagging replica. Private
// redis-servers (a master and its replica) and a sc_<hex> schema; the tool only reads them.
// A replica always counts as at least 1 s behind (INFO replication has whole seconds), so a clock
// skew of 100 ms becomes 1.1 s or more: the keys whose row changed 400 or 700 ms before the entry
// was written are stale-repopulated on a primary but within the widened tolerance on this replica.
let master: RedisServer;
let replica: RedisServer;
let pg: Sandbox;
let dir: TempDir;
let rules: string;

const S = 1000;
const TTL = 120 * S;
/** When every entry was written (host clock; Redis and PostgreSQL run on this host). */
const WRITTEN_AT = Date.now() - 10 * S;

interface Plant {
  id: number;
  /** The cached value: a JSON payload, a raw string, or a hash. */
  cache: { name: string; version: number } | string | Record<string, string>;
  /** Absolute expiry, epoch ms; undefined: no expiry. */
  expiresAt?: number;
  /** Source rows for the id (two: a duplicate). */
  rows: { name: string; version: number; updatedAt: number }[];
  expected: string;
}

const row = (name: string, version: number, updatedAt = WRITTEN_AT - 60 * S) => ({ name, version, updatedAt });
const PLANTS: Plant[] = [
  ...[1, 2, 3].map((id) => ({ id, cache: { name: `item ${id}`, version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row(`item ${id}`, 1)], expected: 'match' })),
  // Changed 400 / 700 ms before the entry was written: within clockSkew + replica lag, not clockSkew alone.
  { id: 10, cache: { name: 'old', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row('new', 2, WRITTEN_AT - 400)], expected: 'within-ttl/ttl-bounded' },
  { id: 11, cache: { name: 'old', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row('new', 2, WRITTEN_AT - 700)], expected: 'within-ttl/ttl-bounded' },
  { id: 12, cache: { name: 'old', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row('new', 2, WRITTEN_AT - 60 * S)], expected: 'divergent/stale-repopulated' },
  { id: 13, cache: { name: 'old', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row('new', 2, WRITTEN_AT + 3 * S)], expected: 'within-ttl/ttl-bounded' },
  { id: 14, cache: { name: 'old', version: 1 }, rows: [row('new', 2)], expected: 'divergent/no-ttl' },
  { id: 15, cache: { name: 'old', version: 1 }, expiresAt: WRITTEN_AT + TTL + 60 * S, rows: [row('new', 2)], expected: 'divergent/ttl-exceeds-declared' },
  { id: 16, cache: { name: 'next', version: 3 }, expiresAt: WRITTEN_AT + TTL, rows: [row('item', 2)], expected: 'divergent/cache-ahead' },
  { id: 17, cache: { name: 'drift', version: 2 }, expiresAt: WRITTEN_AT + TTL, rows: [row('item', 2)], expected: 'divergent/payload-drift' },
  { id: 20, cache: { name: 'gone', version: 1 }, rows: [], expected: 'divergent/orphan' },
  { id: 21, cache: { name: 'gone', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [], expected: 'within-ttl/ttl-bounded-assumed' },
  { id: 22, cache: '__none__', expiresAt: WRITTEN_AT + TTL, rows: [], expected: 'match' },
  { id: 23, cache: 'not json {', expiresAt: WRITTEN_AT + TTL, rows: [row('item', 1)], expected: 'error/undecodable' },
  { id: 24, cache: { name: 'a hash' }, expiresAt: WRITTEN_AT + TTL, rows: [row('item', 1)], expected: 'skipped/wrong-type' },
  { id: 25, cache: { name: 'item 25', version: 1 }, expiresAt: WRITTEN_AT + TTL, rows: [row('item 25', 1), row('other', 1)], expected: 'error/source-error' },
];

beforeAll(async () => {
  [master, replica] = await Promise.all([startRedisServer(), startRedisServer()]);
  const m = new Redis(master.port, '127.0.0.1');
  const r = new Redis(replica.port, '127.0.0.1');
  // The master pings each second, so the replica's measured lag stays near 1-2 s.
  await m.config('SET', 'repl-ping-replica-period', '1');
  const pipe = m.pipeline();
  for (const p of PLANTS) {
    const key = `rl:item:${p.id}`;
    if (typeof p.cache === 'string') pipe.set(key, p.cache);
    else if (p.expected === 'skipped/wrong-type') pipe.hset(key, p.cache);
    else pipe.set(key, JSON.stringify(p.cache));
    if (p.expiresAt !== undefined) pipe.pexpireat(key, p.expiresAt);
  }
  await pipe.exec();
  await r.replicaof('127.0.0.1', String(master.port));
  await waitFor(async () => (await r.info('replication')).includes('master_link_status:up') && (await r.dbsize()) === PLANTS.length, 15_000, 'the replica to sync');
  m.disconnect();
  r.disconnect();

  pg = await createPgSandbox();
  // No primary key: id 25 has two rows, as a join that fans out would give.
  await pg.exec(`CREATE TABLE ${pg.table('items')} (id int NOT NULL, name text NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL)`);
  for (const p of PLANTS) {
    for (const r of p.rows) {
      await pg.exec(`INSERT INTO ${pg.table('items')} VALUES ($1, $2, $3, $4)`, [p.id, r.name, r.version, new Date(r.updatedAt)]);
    }
  }
  dir = await makeTempDir('shadowcheck-explain-lag-');
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pg.url}" }
families:
  - name: item
    pattern: "rl:item:{id}"
    source: main
    table: ${pg.table('items')}
    key: id
    fields: [name]
    version: version
    updatedAt: updated_at
    ttl: 120s
    maxStaleness: 122s
    clockSkew: 100ms
    negativeMarker: "__none__"
`,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([master?.kill(), replica?.kill()]);
  await pg?.drop();
  await dir?.remove();
});

/** `verdict/reason` of each key block of explain's output, by key. */
function explainedVerdicts(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of stdout.split(/^(?=key )/m)) {
    const key = /^key (\S+)/.exec(block)?.[1];
    const verdict = /^ {2}verdict: (\S+) \(decided at step \d\)$/m.exec(block)?.[1];
    if (key !== undefined && verdict !== undefined) out.set(key, verdict);
  }
  return out;
}

describe('explain through a lagging replica', () => {
  it('judges every key of the audit as the audit did, replica lag included', async () => {
    const replicaUrl = `redis://127.0.0.1:${replica.port}/0`;
    const audit = await runCli(['audit', '--rules', rules, '--redis', replicaUrl, '--read-from', 'replica', '--all', '--format', 'ndjson']);
    const report = parseRunNdjson(audit);
    expect(report.keys).toHaveLength(PLANTS.length);
    const audited = new Map(report.keys.map((k) => [k.key, label(k)]));

    const explain = await runCli(['explain', '--rules', rules, '--redis', replicaUrl, '--read-from', 'replica', ...audited.keys()]);
    const explained = explainedVerdicts(explain.stdout);
    expect(explained.size, explain.stdout + explain.stderr).toBe(audited.size);
    expect(Object.fromEntries(explained)).toEqual(Object.fromEntries(audited));

    // The lag mattered: without it, ids 10 and 11 would be stale-repopulated.
    expect(explain.stdout).toMatch(/replicas read up to \d+ ms behind/);
    expect(Object.fromEntries(audited)).toEqual(Object.fromEntries(PLANTS.map((p) => [`rl:item:${p.id}`, p.expected])));
  }, 60_000);
});
