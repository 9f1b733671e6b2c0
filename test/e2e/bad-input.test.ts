/**
 * Bad input, end to end: broken rules files, invalid flags and unreachable or misconfigured
 * services. Every row must fail with its documented exit code, say what is wrong, print nothing on
 * stdout and never show a stack trace. Static rules files live in test/fixtures/bad-input/
 * (valid.yaml is a correct file whose source is unreachable on port 1: a flag that slipped through
 * validation would exit 3 there instead of 2); files that depend on the environment or on file
 * permissions are generated in a temporary directory.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runCli, STACK_TRACE } from './cli.js';
import { usePrivateRedis } from '../integration/helpers/redis.js';

const FIX = 'test/fixtures/bad-input';
const VALID = `${FIX}/valid.yaml`;

const PG_URL = process.env['SHADOWCHECK_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env['SHADOWCHECK_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';
// A reachable Redis, so that the source-side rows fail on the source and not on the cache.
// A private redis-server for this file: the machine's shared one may hold anything.
const redisUrl = usePrivateRedis();

/** The same URL with another port, database or login. */
function withUrl(url: string, change: (u: URL) => void): string {
  const u = new URL(url);
  change(u);
  return u.toString();
}

/** A rules file with one family on one source; the pattern matches no key a test suite writes. */
function rulesFile(kind: 'postgres' | 'mysql', url: string, family: string, lookup: string): string {
  return [
    'version: 1',
    'sources:',
    `  main: { kind: ${kind}, url: ${JSON.stringify(url)} }`,
    'families:',
    `  - name: ${family}`,
    '    pattern: "shadowcheck-bad-input-probe:{id}"',
    '    source: main',
    `    ${lookup}`,
    '    ttl: 300s',
    '',
  ].join('\n');
}

let dir = '';
const tmp = (name: string): string => join(dir, name);

/** Files generated in `dir` before the rows run. */
const GENERATED: Record<string, () => string> = {
  'pg-port-1.yaml': () =>
    rulesFile('postgres', withUrl(PG_URL, (u) => (u.port = '1')), 'users', 'table: users'),
  'pg-no-such-db.yaml': () =>
    rulesFile('postgres', withUrl(PG_URL, (u) => (u.pathname = '/no_such_db')), 'users', 'table: users'),
  'mysql-wrong-password.yaml': () =>
    rulesFile('mysql', withUrl(MYSQL_URL, (u) => (u.password = 'wrong')), 'products', 'table: products'),
  'pg-missing-table.yaml': () => rulesFile('postgres', PG_URL, 'ghost-family', 'table: sc_bad_input_no_such_table'),
  'pg-missing-column.yaml': () =>
    rulesFile(
      'postgres',
      PG_URL,
      'columnless',
      'query: "SELECT id, sc_no_such_column FROM (SELECT 1 AS id) AS t WHERE id = ANY($1)"',
    ),
  'unreadable.yaml': () => rulesFile('postgres', PG_URL, 'users', 'table: users'),
};

interface Row {
  name: string;
  /** Arguments to `shadowcheck`; `tmp(name)` is a generated file. */
  args: () => string[];
  code: number;
  fragment: RegExp;
  /** A reason to skip this row in this environment, or undefined to run it. */
  skip?: () => string | undefined;
  /** Text stderr must not contain (a password). */
  secret?: string;
  env?: NodeJS.ProcessEnv;
}

const audit = (...args: string[]): (() => string[]) => () => ['audit', ...args];
const auditValid = (...flags: string[]): (() => string[]) => audit('--rules', VALID, ...flags);
const auditFixture = (file: string): (() => string[]) => audit('--rules', `${FIX}/${file}`);

const ROWS: Row[] = [
  // Broken rules files: exit 2, the file, line and column, and what was expected.
  { name: 'bad YAML', args: auditFixture('bad-yaml.yaml'), code: 2, fragment: /bad-yaml\.yaml:\d+:\d+: YAML syntax error/ },
  { name: 'tab indentation', args: auditFixture('tabs.yaml'), code: 2, fragment: /tabs\.yaml:3:1: .*tabs are not allowed/ },
  { name: 'unknown key (typo)', args: auditFixture('unknown-key.yaml'), code: 2, fragment: /unknown key "maxStalenes"; did you mean "maxStaleness"\?/ },
  { name: 'typo in a duration', args: auditFixture('duration-typo.yaml'), code: 2, fragment: /:9:10 .*"ttl" must be a duration.*got "5mins"/ },
  { name: 'bare number duration', args: auditFixture('bare-number.yaml'), code: 2, fragment: /"clockSkew" must be a duration with a unit/ },
  { name: 'unknown source', args: auditFixture('unknown-source.yaml'), code: 2, fragment: /unknown source "mian"; defined sources: main/ },
  {
    name: 'missing environment variable',
    args: auditFixture('missing-env.yaml'),
    code: 2,
    fragment: /missing-env\.yaml:3:\d+: environment variable SHADOWCHECK_BAD_INPUT_UNSET_HOST is not set/,
    env: { SHADOWCHECK_BAD_INPUT_UNSET_HOST: undefined },
  },
  { name: 'composite key, one column', args: auditFixture('key-arity.yaml'), code: 2, fragment: /has 2 placeholders \(\{id\}, \{line\}\) but "key" names 1 column/ },
  { name: 'empty placeholder', args: auditFixture('empty-placeholder.yaml'), code: 2, fragment: /empty placeholder "\{\}"/ },
  { name: 'fields and exclude', args: auditFixture('fields-and-exclude.yaml'), code: 2, fragment: /either "fields" .* or "exclude" .*not both/ },
  { name: 'duplicate families', args: auditFixture('duplicate-families.yaml'), code: 2, fragment: /family name "profile" is already used by the family at line 5/ },
  { name: 'overlapping patterns', args: auditFixture('overlapping-patterns.yaml'), code: 2, fragment: /overlaps family "user-profile"/ },
  { name: 'wrong type (list for a duration)', args: auditFixture('wrong-types.yaml'), code: 2, fragment: /"ttl" must be a duration .*got a list/ },
  { name: 'wrong type (families not a list)', args: auditFixture('families-not-a-list.yaml'), code: 2, fragment: /"families" must be a list/ },
  { name: 'rules file is a directory', args: audit('--rules', FIX), code: 2, fragment: /is a directory/ },
  { name: 'rules file not found', args: audit('--rules', `${FIX}/no-such-file.yaml`), code: 2, fragment: /rules file not found/ },
  {
    name: 'unreadable rules file (chmod 000)',
    args: () => ['audit', '--rules', tmp('unreadable.yaml')],
    code: 2,
    fragment: /unreadable\.yaml: cannot read the rules file: permission denied/,
    skip: () =>
      process.getuid?.() === 0
        ? 'running as root: chmod 000 does not stop root from reading the file, so there is nothing to test'
        : undefined,
  },
  { name: 'empty rules file', args: auditFixture('empty.yaml'), code: 2, fragment: /the rules file is empty/ },
  { name: 'non-UTF-8 rules file', args: auditFixture('not-utf8.yaml'), code: 2, fragment: /not-utf8\.yaml:2:6: the rules file is not valid UTF-8 \(byte 0xe9\)/ },
  { name: 'rules validate on a broken file', args: () => ['rules', 'validate', `${FIX}/duration-typo.yaml`], code: 2, fragment: /duration-typo\.yaml:9:10/ },

  // Flags: exit 2 before anything is read (valid.yaml's source is unreachable, which would be 3).
  { name: '--sample abc', args: auditValid('--sample', 'abc'), code: 2, fragment: /--sample takes a whole number >= 1, got "abc"/ },
  { name: '--sample 0', args: auditValid('--sample', '0'), code: 2, fragment: /--sample takes a whole number >= 1, got "0"/ },
  { name: '--all with --sample', args: auditValid('--all', '--sample', '5'), code: 2, fragment: /'--all' cannot be used with option '--sample/ },
  { name: '--rate -1', args: auditValid('--rate', '-1'), code: 2, fragment: /--rate takes a whole number >= 1, got "-1"/ },
  { name: '--batch 0', args: auditValid('--batch', '0'), code: 2, fragment: /--batch takes a whole number >= 1/ },
  { name: '--timeout 0', args: auditValid('--timeout', '0'), code: 2, fragment: /--timeout takes a whole number >= 1/ },
  { name: '--min-consistency 2', args: auditValid('--min-consistency', '2'), code: 2, fragment: /--min-consistency takes a ratio between 0 and 1.*got "2"/ },
  { name: '--min-consistency 150%', args: auditValid('--min-consistency', '150%'), code: 2, fragment: /--min-consistency takes a ratio .*got "150%"/ },
  { name: '--max-error-ratio x', args: auditValid('--max-error-ratio', 'x'), code: 2, fragment: /--max-error-ratio takes a ratio .*got "x"/ },
  { name: '--format xml', args: auditValid('--format', 'xml'), code: 2, fragment: /argument 'xml' is invalid\. Allowed choices are table, json/ },
  { name: '--fail-on maybe', args: auditValid('--fail-on', 'maybe'), code: 2, fragment: /argument 'maybe' is invalid\. Allowed choices are divergent, error, none/ },
  { name: '--shard 2/2', args: auditValid('--shard', '2/2'), code: 2, fragment: /--shard 2\/2: the index must be below the count/ },
  { name: '--shard x', args: auditValid('--shard', 'x'), code: 2, fragment: /--shard takes i\/N .*got "x"/ },
  { name: '--recent 10x', args: auditValid('--recent', '10x'), code: 2, fragment: /--recent takes a duration .*got "10x"/ },
  { name: '--family nosuch', args: auditValid('--family', 'nosuch'), code: 2, fragment: /--family "nosuch": no such family .*families are: user-profile/ },
  { name: '--label without --pushgateway', args: auditValid('--label', 'foo'), code: 2, fragment: /--label .*needs --pushgateway/ },
  {
    name: '--label with a bad name',
    args: auditValid('--pushgateway', 'http://127.0.0.1:1', '--label', 'bad-name=x'),
    code: 2,
    fragment: /--label name "bad-name" is not a valid Prometheus label name/,
  },
  { name: '--label not NAME=VALUE', args: auditValid('--pushgateway', 'http://127.0.0.1:1', '--label', 'foo'), code: 2, fragment: /--label "foo" is not of the form NAME=VALUE/ },
  { name: '--output into a missing folder', args: auditValid('--output', '/nonexistent/dir/x.json'), code: 2, fragment: /--output \/nonexistent\/dir\/x\.json: its folder \/nonexistent\/dir does not exist/ },
  { name: '--baseline not JSON', args: auditValid('--baseline', `${FIX}/not-json-baseline.json`), code: 2, fragment: /--baseline .*not-json-baseline\.json: not valid JSON$/m, secret: "not json {" },
  { name: '--redis ftp://x', args: auditValid('--redis', 'ftp://x'), code: 2, fragment: /--redis ftp:\/\/x\/?: expected a URL starting with redis:\/\// },
  { name: 'unknown option', args: auditValid('--frobnicate'), code: 2, fragment: /unknown option '--frobnicate'/ },
  { name: 'missing --rules', args: audit(), code: 2, fragment: /required option '--rules <file>' not specified/ },

  // Connections: exit 3 with the service named; misconfigured families: exit 2 naming the family.
  {
    name: 'unreachable Redis',
    args: auditValid('--redis', 'redis://127.0.0.1:1/0'),
    code: 3,
    fragment: /cannot connect to Redis at redis:\/\/127\.0\.0\.1:1\/0/,
  },
  {
    name: 'postgres on port 1',
    args: () => ['audit', '--rules', tmp('pg-port-1.yaml'), '--redis', redisUrl()],
    code: 3,
    fragment: /cannot connect to source "main" \(postgres:\/\/.*:1\/.*connection refused/,
  },
  {
    name: 'unknown PostgreSQL database',
    args: () => ['audit', '--rules', tmp('pg-no-such-db.yaml'), '--redis', redisUrl()],
    code: 3,
    fragment: /cannot connect to source "main" .*database "no_such_db" does not exist/,
  },
  {
    name: 'wrong MariaDB password',
    args: () => ['audit', '--rules', tmp('mysql-wrong-password.yaml'), '--redis', redisUrl()],
    code: 3,
    fragment: /cannot connect to source "main" \(mysql:\/\/[^:]+:\*\*\*@.*Access denied/,
    secret: ':wrong@',
  },
  {
    name: 'missing table',
    args: () => ['audit', '--rules', tmp('pg-missing-table.yaml'), '--redis', redisUrl()],
    code: 2,
    fragment: /family "ghost-family": relation "sc_bad_input_no_such_table" does not exist/,
  },
  {
    name: 'missing column in a query',
    args: () => ['audit', '--rules', tmp('pg-missing-column.yaml'), '--redis', redisUrl()],
    code: 2,
    fragment: /family "columnless": column "sc_no_such_column" does not exist/,
  },
];

describe('bad input', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowcheck-bad-input-'));
    for (const [name, text] of Object.entries(GENERATED)) await writeFile(join(dir, name), text());
    await chmod(join(dir, 'unreadable.yaml'), 0o000);
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('has at least 30 rows, each with a unique name', () => {
    if (ROWS.length < 30 || new Set(ROWS.map((r) => r.name)).size !== ROWS.length) throw new Error('bad table');
  });

  it.concurrent.for(ROWS.map((row) => [row.name, row] as const))(
    '%s: exits with its code, says what is wrong, no stack trace, empty stdout',
    async ([, row], { expect, skip }) => {
      const reason = row.skip?.();
      if (reason !== undefined) skip(reason);
      const result = await runCli(row.args(), row.env ?? {}, 30_000);
      const context = `stderr: ${result.stderr}`;
      expect(result.code, context).toBe(row.code);
      expect(result.stderr).toMatch(row.fragment);
      expect(result.stderr).toMatch(/^(shadowcheck|error): /);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expect(result.stdout).toBe('');
      if (row.secret !== undefined) expect(result.stderr).not.toContain(row.secret);
    },
  );
});
