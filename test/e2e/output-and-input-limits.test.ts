/**
 * Issue 14, items 4, 5, 11 and 12 through the built CLI: --output places that cannot be written
 * fail fast with exit 3 (not a hang, not exit 70); --output /dev/stdout with stdout redirected to
 * a file leaves the /dev/stdout link alone; a rules file that never ends or is not text is refused
 * (exit 2) without reading it whole; the first SIGTERM while connecting ends the run (exit 143).
 * The audits judge no key (their pattern matches nothing), so each takes a fraction of a second.
 */
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, runCli, STACK_TRACE } from './cli.js';
import { usePrivateRedis } from '../integration/helpers/redis.js';

const PG_URL = process.env['SHADOWCHECK_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
// A private redis-server for this file: the machine's shared one may hold anything.
const redisUrl = usePrivateRedis();

let dir = '';
let rules = '';
const audit = (...flags: string[]): string[] => ['audit', '--rules', rules, '--redis', redisUrl(), '--format', 'json', ...flags];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowcheck-limits-'));
  rules = join(dir, 'rules.yaml');
  await writeFile(
    rules,
    [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: ${JSON.stringify(PG_URL)} }`,
      'families:',
      '  - name: probe',
      '    pattern: "shadowcheck-limits-probe:{id}"',
      '    source: main',
      `    query: "SELECT id, name FROM (SELECT 1::bigint AS id, 'a'::text AS name) AS t WHERE id = ANY($1)"`,
      '    ttl: 300s',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'file.txt'), 'a regular file');
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('--output that cannot be written', () => {
  const rows: [string, () => string, RegExp][] = [
    ['a path under a regular file', () => join(dir, 'file.txt', 'r.json'), /file\.txt is not a folder/],
    ['a place that refuses new files (/sys/kernel)', () => '/sys/kernel/r.json', /cannot create a file in \/sys\/kernel/],
    ['an empty path', () => '', /an empty path names no file/],
    ['a full device (/dev/full)', () => '/dev/full', /ENOSPC/],
  ];
  it.concurrent.for(rows)('%s: exit 3 with a clear message, no stack trace', async ([, path, message], { expect }) => {
    const result = await runCli(audit('--output', path()), {}, 30_000);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/shadowcheck: cannot write the report to --output/);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('--output /dev/stdout with stdout redirected to a file', () => {
  it('writes the report into the file and leaves /dev/stdout a symlink', async () => {
    const outFile = join(dir, 'stdout.json');
    const handle = await open(outFile, 'w');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...audit('--output', '/dev/stdout')], { cwd: ROOT, stdio: ['ignore', handle.fd, 'ignore'], env: { ...process.env, NO_COLOR: '1' } });
      child.on('error', reject);
      child.on('close', resolve);
    });
    await handle.close();
    expect(code).toBe(1); // no key judged: the gate fails, as documented
    expect((await lstat('/dev/stdout')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(outFile, 'utf8'))).toMatchObject({ tool: 'shadowcheck' });
  });
});

describe('rules files that are not rules files', () => {
  beforeAll(async () => {
    await writeFile(join(dir, 'sparse.yaml'), '');
    await truncate(join(dir, 'sparse.yaml'), 1024 ** 3);
  });
  const rows: [string, () => string, RegExp][] = [
    ['/dev/zero', () => '/dev/zero', /\/dev\/zero:1:1: the rules file holds a NUL byte/],
    ['/dev/urandom', () => '/dev/urandom', /\/dev\/urandom(:\d+:\d+)?: the rules file (is not valid UTF-8|holds a NUL byte)/],
    ['a sparse 1 GB file', () => join(dir, 'sparse.yaml'), /is larger than 10 MiB/],
  ];
  // Before the fix /dev/zero and /dev/urandom grew without bound: runCli's deadline would kill them.
  it.concurrent.for(rows)('rules validate %s: exit 2 at once, naming the problem', async ([, file, message], { expect }) => {
    const result = await runCli(['rules', 'validate', file()], {}, 30_000);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('SIGTERM while connecting', () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  let onAccept: (() => void) | undefined;
  beforeAll(async () => {
    // Accepts and never answers: the connect waits for its deadline (here an hour).
    server = createServer((socket) => {
      accepted.push(socket);
      onAccept?.();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('the first SIGTERM ends the run with exit 143 and says so', async () => {
    const connected = new Promise<void>((resolve) => (onAccept = resolve));
    const child = spawn(process.execPath, [BIN, 'audit', '--rules', rules, '--redis', `redis://127.0.0.1:${port}/0`, '--timeout', '3600000'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await connected;
    child.kill('SIGTERM');
    // Generous: a loaded machine is slow, but an ignored signal would wait the whole hour.
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await closed;
    clearTimeout(kill);
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/SIGTERM: stopped while connecting/);
  }, 60_000);
});
