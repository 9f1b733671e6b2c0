/**
 * A nested `redact:` path (`address.street`) must hide the street whatever shape its parent has on
 * either side: a string holding it, null, a missing field, an array, a JSON string, a number. The
 * real CLI audits a private redis-server against a throwaway PostgreSQL schema in every format and
 * `explain`s every key (a matching one included); no secret may appear in stdout, stderr or the
 * report files.
 *
 * Isolation: a redis-server of its own on a free port (killed in afterAll), a `sc_<hex>` schema and
 * a temp dir, all removed afterwards.
 */
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTER_NAMES } from '../../../src/report/index.js';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const PREFIX = 'red:person:';

/** One key per shape: its cached JSON and its row's `address` (jsonb, SQL null when null). */
const CASES: { id: number; cache: Record<string, unknown>; source: unknown; secrets: string[] }[] = [
  // The street cached as a bare string where an object is expected.
  { id: 1, cache: { address: '1 Secret St A' }, source: { street: '1 Secret St A', city: 'Paris' }, secrets: ['1 Secret St A'] },
  { id: 2, cache: { address: null }, source: { street: '2 Secret St B', city: 'Lyon' }, secrets: ['2 Secret St B'] },
  { id: 3, cache: { address: { street: '3 Secret St C', city: 'Nice' } }, source: null, secrets: ['3 Secret St C'] },
  { id: 4, cache: {}, source: { street: '4 Secret St D', city: 'Metz' }, secrets: ['4 Secret St D'] },
  // An array where an object is expected, against an object; and arrays on both sides.
  { id: 5, cache: { address: ['5 Secret St E'] }, source: { street: '5 Secret St F' }, secrets: ['5 Secret St E', '5 Secret St F'] },
  { id: 6, cache: { address: [{ street: '6 Secret St G' }] }, source: [{ street: '6 Secret St H' }], secrets: ['6 Secret St G', '6 Secret St H'] },
  // A JSON string holding the street, against the object.
  { id: 7, cache: { address: JSON.stringify({ street: '7 Secret St I' }) }, source: { street: '7 Secret St J' }, secrets: ['7 Secret St I', '7 Secret St J'] },
  { id: 8, cache: { address: 8_765_432_109 }, source: { street: '8 Secret St K' }, secrets: ['8765432109', '8 Secret St K'] },
  // Same shape, different streets: the only case redaction already handled.
  { id: 9, cache: { address: { street: '9 Secret St L', city: 'Pau' } }, source: { street: '9 Secret St M', city: 'Pau' }, secrets: ['9 Secret St L', '9 Secret St M'] },
  // A matching key: `explain` shows its payloads, which must be masked too.
  { id: 10, cache: { address: { street: '10 Secret St N', city: 'Caen' } }, source: { street: '10 Secret St N', city: 'Caen' }, secrets: ['10 Secret St N'] },
];
const SECRETS = CASES.flatMap((c) => c.secrets);

let server: RedisServer;
let redis: Redis;
let pg: Sandbox;
let dir: TempDir;
let rules: string;
let redisUrl: string;

beforeAll(async () => {
  server = await startRedisServer();
  redisUrl = `redis://127.0.0.1:${server.port}/0`;
  redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  pg = await createPgSandbox();
  const table = pg.table('people');
  await pg.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, address jsonb, plan text NOT NULL)`);
  for (const c of CASES) {
    await pg.exec(`INSERT INTO ${table} VALUES ($1, $2::jsonb, 'pro')`, [c.id, c.source === null ? null : JSON.stringify(c.source)]);
    // No TTL: every differing key is divergent, so every format lists it with its diff.
    await redis.set(`${PREFIX}${c.id}`, JSON.stringify({ id: c.id, ...c.cache, plan: 'pro' }));
  }
  dir = await makeTempDir('sc-redaction-');
  rules = await dir.write(
    'rules.yaml',
    [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${pg.url}" }`,
      'families:',
      '  - name: person',
      `    pattern: "${PREFIX}{id}"`,
      '    source: main',
      `    table: ${table}`,
      '    key: id',
      '    fields: [address, plan]',
      '    redact: [address.street]',
      '    ttl: 300s',
      '',
    ].join('\n'),
  );
}, 30_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.kill();
  await pg?.drop();
  await dir?.remove();
});

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} shows "${secret}"`).toBe(false);
}

describe('nested redact paths hide the secret whatever the shape of its parent', () => {
  it.each(REPORTER_NAMES)('audit --format %s: not on stdout, stderr nor in the --output file', async (format) => {
    const common = ['audit', '--rules', rules, '--redis', redisUrl, '--all', '--format', format, '--confirm-delay', '0', '--log-level', 'debug'];
    const toStdout = await runCli(common);
    const file = dir.file(`report-${format}`);
    const toFile = await runCli([...common, '--output', file]);
    for (const result of [toStdout, toFile]) {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expectNoSecret(result.stdout, `--format ${format} stdout`);
      expectNoSecret(result.stderr, `--format ${format} stderr`);
    }
    const written = await readFile(file, 'utf8');
    expectNoSecret(written, `--format ${format} --output`);
    // The run did list the divergent keys with their diff, so a leak would have been seen.
    expect(toStdout.stdout).toContain(`${PREFIX}1`);
    expect(toStdout.stdout).toContain('***');
  });

  it('the json report masks the parent whole where its shape is not the expected object', async () => {
    const result = await runCli(['audit', '--rules', rules, '--redis', redisUrl, '--all', '--format', 'json', '--confirm-delay', '0']);
    const doc = JSON.parse(result.stdout) as { findings: { key: string; diff: { path: string; cache: unknown; source: unknown }[] }[] };
    const diffOf = (id: number) => doc.findings.find((f) => f.key === `${PREFIX}${id}`)?.diff;
    expect(diffOf(1)).toEqual([{ path: 'address', cache: '***', source: { street: '***', city: 'Paris' } }]);
    // null and a missing field hold nothing: shown as they are, the object side masked.
    expect(diffOf(2)).toEqual([{ path: 'address', cache: null, source: { street: '***', city: 'Lyon' } }]);
    expect(diffOf(3)).toEqual([{ path: 'address', cache: { street: '***', city: 'Nice' }, source: null }]);
    expect(diffOf(6)).toEqual([{ path: 'address', cache: '***', source: '***' }]);
    expect(diffOf(9)).toEqual([{ path: 'address.street', cache: '***', source: '***' }]);
    expect(doc.findings.some((f) => f.key === `${PREFIX}10`)).toBe(false);
  });

  it('explain masks the street in both payloads and the diff, matching keys included', async () => {
    const keys = CASES.map((c) => `${PREFIX}${c.id}`);
    const result = await runCli(['explain', '--rules', rules, '--redis', redisUrl, ...keys]);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stdout).toContain(`key ${PREFIX}10`);
    expect(result.stdout).toContain('verdict: match');
    expectNoSecret(result.stdout, 'explain stdout');
    expectNoSecret(result.stderr, 'explain stderr');
  });
});
