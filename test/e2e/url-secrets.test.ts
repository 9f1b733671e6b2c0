/**
 * A password with unencoded special characters (`#`, `@`, `/`, `?`) in a --redis, --source or
 * rules-file URL, through the built CLI: no piece of it reaches stdout or stderr, the exit code is
 * the documented one (2 for a URL that cannot be read as written, 3 for one that parses but whose
 * server is unreachable), and a URL that cannot be read says to percent-encode the password.
 * Nothing is written anywhere; the only server reached is Redis (connect and PING, on db 15).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE, type CliResult } from './cli.js';
import { usePrivateRedis } from '../integration/helpers/redis.js';

const PG_URL = process.env['SHADOWCHECK_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
// A private redis-server for this file: the machine's shared one may hold anything.
const redisUrl = usePrivateRedis();
const PIECES = ['Xq7', 'Zr', 'Wk9'];
/** Does not parse: WHATWG URL ends the authority at "#", leaving ":Xq7" as a port. */
const UNPARSEABLE = 'Xq7#Zr@Wk9';
/** Parses, but as host "app", port 1234 and a fragment holding the rest of the password. */
const MISREAD = '1234#Zr@Wk9';
/** Parses as written (WHATWG takes the last "@" of the authority): a connection is attempted. */
const PARSEABLE = 'Xq7:Zr@Wk9';
const PERCENT_ENCODE = /percent-encode special characters in the password: # is %23, @ is %40, \/ is %2F/;

/** PG_URL with the given raw password and, optionally, port, written by hand so nothing encodes it. */
function pgUrl(password: string, port?: number): string {
  const url = new URL(PG_URL);
  return `postgres://app:${password}@${url.hostname}:${port ?? (url.port || '5432')}${url.pathname}`;
}

let dir = '';
async function rulesWith(name: string, url: string): Promise<string> {
  const file = join(dir, name);
  const text = [
    'version: 1',
    'sources:',
    `  main: { kind: postgres, url: ${JSON.stringify(url)} }`,
    'families:',
    '  - name: users',
    '    pattern: "shadowcheck-url-secrets-probe:{id}"',
    '    source: main',
    '    table: users',
    '    ttl: 300s',
    '',
  ].join('\n');
  await writeFile(file, text);
  return file;
}

function expectNothingShown(result: CliResult, pieces: readonly string[] = PIECES): void {
  for (const piece of pieces) {
    expect(result.stdout, `stdout shows "${piece}"`).not.toContain(piece);
    expect(result.stderr, `stderr shows "${piece}": ${result.stderr}`).not.toContain(piece);
  }
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(STACK_TRACE);
}

let reachable = '';
let unparseable = '';
let misread = '';
let unreachable = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowcheck-url-secrets-'));
  reachable = await rulesWith('reachable.yaml', PG_URL);
  unparseable = await rulesWith('unparseable.yaml', pgUrl(UNPARSEABLE));
  misread = await rulesWith('misread.yaml', pgUrl(MISREAD));
  unreachable = await rulesWith('unreachable.yaml', pgUrl(PARSEABLE, 1));
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('a --redis password with unencoded special characters is never shown', () => {
  it.each([
    ['redis://:Xq7#Zr@Wk9@127.0.0.1:1/0', 'redis://:***@127.0.0.1:1/0 is not a valid URL'],
    ['rediss://app:Xq7/Zr@Wk9@127.0.0.1:1/0', 'rediss://app:***@127.0.0.1:1/0 is not a valid URL'],
    ['redis://app:1234#Zr@Wk9@127.0.0.1:1/0', 'redis://app:***@127.0.0.1:1/0 has an "@" after a "#", "/" or "?"'],
    ['redis+sentinel://:Xq7#Zr@Wk9@127.0.0.1:1/mymaster', 'redis+sentinel://:***@127.0.0.1:1/mymaster: not a sentinel URL'],
  ])('%s: exit 2, the URL masked up to the last "@", and a hint to percent-encode', async (redis, shown) => {
    const result = await runCli(['audit', '--rules', reachable, '--redis', redis]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--redis ${shown}`);
    expect(result.stderr).toMatch(PERCENT_ENCODE);
    expectNothingShown(result, [...PIECES, '1234']);
  });

  it.each([
    ['redis://:Xq7:Zr@Wk9@127.0.0.1:1/0', 'cannot connect to Redis at redis://:***@127.0.0.1:1/0'],
    ['redis+cluster://:Xq7#Zr@Wk9@127.0.0.1:1/', 'cannot connect to Redis Cluster at redis+cluster://:***@127.0.0.1:1/'],
  ])('%s reads as written: exit 3 (cannot connect), the URL masked', async (redis, shown) => {
    const result = await runCli(['audit', '--rules', reachable, '--redis', redis]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(shown);
    expectNothingShown(result);
  });
});

describe('a source password with unencoded special characters is never shown', () => {
  it.each([
    ['does not parse', () => unparseable, '"url" is not a valid URL'],
    ['parses with part of the password as the port and fragment', () => misread, '"url" has an "@" after a "#", "/" or "?"'],
  ])('a rules-file URL that %s: audit and rules validate exit 2 and say to percent-encode', async (_what, file, problem) => {
    for (const args of [['audit', '--rules', file(), '--redis', redisUrl()], ['rules', 'validate', file()]]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(problem);
      expect(result.stderr).toContain('(got "postgres://app:***@');
      expect(result.stderr).toMatch(PERCENT_ENCODE);
      expectNothingShown(result, [...PIECES, '1234']);
    }
  });

  it('a rules-file URL that reads as written but cannot connect: exit 3, the URL masked', async () => {
    const result = await runCli(['audit', '--rules', unreachable, '--redis', redisUrl()]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot connect to source "main" \(postgres:\/\/app:\*\*\*@[^)]+:1\//);
    expectNothingShown(result);
  });

  it.each([pgUrl(UNPARSEABLE), pgUrl(MISREAD)])('init --source main=%s: exit 2 before connecting, and says to percent-encode', async (url) => {
    const result = await runCli(['init', '--redis', 'redis://127.0.0.1:1/0', '--source', `main=${url}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--source main=postgres://app:***@');
    expect(result.stderr).toMatch(PERCENT_ENCODE);
    expectNothingShown(result, [...PIECES, '1234']);
  });
});
