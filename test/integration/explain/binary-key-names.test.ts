/**
 * A text key and a binary key that once displayed alike: the text key spelled `bk:user:\xff`
 * (backslash, x, f, f) and the binary key `bk:user:` + byte 0xff. The audit must report them under
 * two display names, and `explain` must read each by the name the report shows. A text key with a
 * backslash in its id must still load the row its text names.
 *
 * Isolation: a throwaway redis-server on a free port, a throwaway `sc_<hex>` PostgreSQL schema, a
 * temp dir for the rules file; all removed afterwards. Runs the built CLI.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli.js';
import { label, makeTempDir, parseRunNdjson, type NdjsonReport, type TempDir } from '../helpers/audit-cli.js';
import { createPgSandbox, type Sandbox } from '../helpers/db.js';
import { REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

const TEXT_KEY = 'bk:user:\\xff';
const BINARY_KEY = Buffer.concat([Buffer.from('bk:user:'), Buffer.from([0xff])]);
const BACKSLASH_KEY = 'bk:user:DOMAIN\\alice';

/** How reports show each key. */
const TEXT_SHOWN = 'bk:user:\\x5cxff';
const BINARY_SHOWN = 'bk:user:\\xff';
const BACKSLASH_SHOWN = 'bk:user:DOMAIN\\x5calice';

describe('a text key and a binary key that used to display alike', () => {
  let server: RedisServer;
  let redis: Redis;
  let url: string;
  let pgBox: Sandbox;
  let dir: TempDir;
  let rulesFile: string;
  let report: NdjsonReport;
  let stderr = '';

  const explain = (key: string) => runCli(['explain', '--rules', rulesFile, '--redis', url, key]);

  beforeAll(async () => {
    [server, pgBox, dir] = await Promise.all([startRedisServer(), createPgSandbox(), makeTempDir('sc-binary-keys-')]);
    url = `redis://${REDIS_HOST}:${server.port}/0`;
    redis = new Redis(server.port, REDIS_HOST);

    const users = pgBox.table('users');
    await pgBox.exec(`CREATE TABLE ${users} (id text PRIMARY KEY, name text)`);
    // The ids as the keys' text spells them: the id of the text key is four characters.
    await pgBox.exec(`INSERT INTO ${users} VALUES ($1, 'Text'), ($2, 'Alice')`, ['\\xff', 'DOMAIN\\alice']);

    await redis.set(TEXT_KEY, JSON.stringify({ name: 'Text' }), 'EX', 200);
    await redis.set(BINARY_KEY, JSON.stringify({ name: 'Binary' }), 'EX', 200);
    await redis.set(BACKSLASH_KEY, JSON.stringify({ name: 'Alice' }), 'EX', 200);

    rulesFile = await dir.write(
      'rules.yaml',
      [
        'version: 1',
        'sources:',
        `  main: { kind: postgres, url: "${pgBox.url}" }`,
        'families:',
        '  - name: user',
        '    pattern: "bk:user:{id}"',
        '    source: main',
        `    table: ${users}`,
        '    fields: [name]',
        '    ttl: 300s',
      ].join('\n'),
    );
    const result = await runCli(['audit', '--rules', rulesFile, '--redis', url, '--all', '--format', 'ndjson', '--confirm-delay', '0', '--fail-on', 'none']);
    stderr = result.stderr;
    report = parseRunNdjson(result);
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([server?.kill(), pgBox?.drop(), dir?.remove()]);
  });

  it('the audit reports the two keys under two display names, a backslash written \\x5c', () => {
    expect([...report.byKey.keys()].sort(), stderr).toEqual([BACKSLASH_SHOWN, TEXT_SHOWN, BINARY_SHOWN].sort());
    expect(report.summary.summary.sampled).toBe(3);
  });

  // The audit matches families on the key's text (keyMatchText), not on its display: a text key
  // with a backslash loads the id `DOMAIN\alice`, not `DOMAIN\x5calice`.
  it('the audit loads the row a text key with a backslash names, by its text', () => {
    expect(label(report.byKey.get(TEXT_SHOWN) ?? { verdict: 'not reported' }), stderr).toBe('match');
    expect(label(report.byKey.get(BACKSLASH_SHOWN) ?? { verdict: 'not reported' }), stderr).toBe('match');
  });

  it('explain reads the binary key by its displayed name, and names the text key spelled alike', async () => {
    const result = await explain(BINARY_SHOWN);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`key ${BINARY_SHOWN}\n`);
    expect(result.stdout).toContain('cache payload (normalized): {"name":"Binary"}');
    expect(result.stdout).toContain(
      `note: two keys exist: the one displayed ${BINARY_SHOWN}, read here (each \\xNN in an argument is one byte), ` +
        `and the text key whose name is literally ${TEXT_KEY}; to explain that one, write ${TEXT_SHOWN} (\\x5c for each backslash)`,
    );
  });

  it('explain reads the text key by its displayed name, and loads the row its text names', async () => {
    const result = await explain(TEXT_SHOWN);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`key ${TEXT_SHOWN}\n`);
    expect(result.stdout).toContain('id = \\xff)');
    expect(result.stdout).toContain('cache payload (normalized): {"name":"Text"}');
    expect(result.stdout).toContain('verdict: match');
    // Its literal spelling (`bk:user:\x5cxff` as text) is no key: nothing else to name.
    expect(result.stdout).not.toContain('note:');
  });

  it('explain reads a text key with a backslash as displayed, or as typed with the bare backslash', async () => {
    for (const argument of [BACKSLASH_SHOWN, BACKSLASH_KEY]) {
      const result = await explain(argument);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`key ${BACKSLASH_SHOWN}\n`);
      expect(result.stdout).toContain('id = DOMAIN\\alice)');
      expect(result.stdout).toContain('verdict: match');
    }
  });
});
