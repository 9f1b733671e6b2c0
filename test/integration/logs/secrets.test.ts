import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTER_NAMES } from '../../../src/report/index.js';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { createAclUser, openTestDb, type AclUser, type TestDb } from '../helpers/redis.js';

// This file owns logical database 2 of a private redis-server (keys under secret:) and a throwaway PostgreSQL schema.
const REDIS_DB = 2;
const PREFIX = 'secret:user:';
// PostgreSQL here uses trust auth, so it accepts (and ignores) any password in the URL.
const PG_PASSWORD = 'pg-Secret-4711';
const PUSH_PASSWORD = 'push-Secret-0815';
const EMAIL = 'redacted.person@example.com';

let db: TestDb;
let pg: Sandbox;
let user: AclUser;
let dir: TempDir;
let rules: string;

beforeAll(async () => {
  db = await openTestDb(REDIS_DB);
  await db.sweep([PREFIX]);
  pg = await createPgSandbox();
  await pg.exec(`CREATE TABLE ${pg.table('users')} (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL)`);
  await pg.exec(`INSERT INTO ${pg.table('users')} VALUES (1, 'new.${EMAIL}', 'pro'), (2, '${EMAIL}', 'pro')`);
  // Key 1: divergent on the redacted field and on plan (no TTL); key 2: a match.
  await db.redis.set(`${PREFIX}1`, JSON.stringify({ id: 1, email: EMAIL, plan: 'free' }));
  await db.redis.set(`${PREFIX}2`, JSON.stringify({ id: 2, email: EMAIL, plan: 'pro' }), 'EX', 200);
  user = await createAclUser(db.redis, 'sc_secret', ['~*', '&*', '+@all', '-@write']);
  dir = await makeTempDir('shadowcheck-secrets-');
  const pgUrl = new URL(pg.url);
  pgUrl.password = PG_PASSWORD;
  rules = await dir.write(
    'rules.yaml',
    `version: 1
sources:
  main: { kind: postgres, url: "${pgUrl.toString()}" }
families:
  - name: user
    pattern: "${PREFIX}{id}"
    source: main
    table: ${pg.table('users')}
    fields: [email, plan]
    redact: [email]
    ttl: 300s
`,
  );
});

afterAll(async () => {
  await db?.sweep([PREFIX]);
  await user?.drop();
  await db?.close();
  await pg?.drop();
  await dir?.remove();
});

const secrets = () => [user.password, PG_PASSWORD, PUSH_PASSWORD, EMAIL];

describe('secrets never reach stdout or stderr', () => {
  it.each(REPORTER_NAMES)('--format %s with debug logs and a failing push', async (format) => {
    const result = await runCli([
      'audit', '--rules', rules, '--redis', user.url(REDIS_DB), '--all', '--format', format, '--confirm-delay', '0',
      '--log-level', 'debug', '--pushgateway', `http://push:${PUSH_PASSWORD}@127.0.0.1:1`,
    ]);
    expect(result.code).toBe(1);
    // The run did judge the redacted field, so the test would see a leak if there were one.
    expect(result.stdout).toContain(PREFIX);
    for (const secret of secrets()) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
    expect(result.stderr).toContain('***');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('logs are JSON lines on stderr when it is not a terminal, and say where they connected (redacted)', async () => {
    const result = await runCli(['audit', '--rules', rules, '--redis', user.url(REDIS_DB), '--all', '--format', 'json', '--log-level', 'info']);
    const logs = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; redis?: string; level: number });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['connected to Redis', 'source ready', 'auditing family']));
    expect(logs.find((l) => l.msg === 'connected to Redis')?.redis).toBe(`redis://${user.name}:***@127.0.0.1:${db.port}/${REDIS_DB}`);
    // stdout is the report alone: one JSON document.
    expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
  });

  it('the default log level (warn) prints no info logs', async () => {
    const result = await runCli(['audit', '--rules', rules, '--redis', user.url(REDIS_DB), '--all', '--format', 'json']);
    expect(result.stderr).not.toContain('connected to Redis');
  });
});
