/**
 * Fast start: a command loads only the modules it needs. Asserted by what the process resolves
 * (a resolve hook logs every module URL), not by timing: `--version` loads no command, and an
 * offline `rules validate` of `table` families loads no driver and no SQL parser.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, commandsFor } from '../../src/cli/main.js';
import { BIN, ROOT } from './cli.js';

const REGISTER = fileURLToPath(new URL('../fixtures/import-log/register.mjs', import.meta.url));
const HEAVY = ['ioredis', 'pg', 'mysql2', 'node-sql-parser', 'libpg-query', 'pino', 'cli-table3', 'prom-client'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sc-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the built CLI and returns its exit code and the packages (node_modules/NAME) it loaded. */
async function packagesLoaded(args: readonly string[]): Promise<{ code: number | null; packages: Set<string> }> {
  const log = join(dir, `imports-${Math.random().toString(16).slice(2)}.log`);
  await writeFile(log, '');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REGISTER, BIN, ...args], { cwd: ROOT, env: { ...process.env, SC_IMPORT_LOG: log }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', resolve);
  });
  const packages = new Set<string>();
  for (const url of (await readFile(log, 'utf8')).split('\n')) {
    const found = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (found !== null) packages.add(found[1] as string);
  }
  return { code, packages };
}

describe('a command loads only what it needs', () => {
  it('--version loads no driver, parser, logger or table module', async () => {
    const { code, packages } = await packagesLoaded(['--version']);
    expect(code).toBe(0);
    expect(packages.has('commander')).toBe(true);
    for (const name of HEAVY) expect(packages.has(name), name).toBe(false);
  });

  it('rules validate of table families loads no driver and no SQL parser', async () => {
    const rules = join(dir, 'rules.yaml');
    await writeFile(
      rules,
      [
        'version: 1',
        'sources:',
        '  main: { kind: postgres, url: "postgres://127.0.0.1/app" }',
        'families:',
        '  - name: user',
        '    pattern: "user:{id}"',
        '    source: main',
        '    table: users',
        '    ttl: 300s',
      ].join('\n'),
    );
    const { code, packages } = await packagesLoaded(['rules', 'validate', rules]);
    expect(code).toBe(0);
    expect(packages.has('yaml')).toBe(true);
    for (const name of ['ioredis', 'pg', 'mysql2', 'node-sql-parser', 'libpg-query']) expect(packages.has(name), name).toBe(false);
  });
  it('rules validate of a MySQL query loads its SQL parser (through require) and still no driver', async () => {
    const rules = join(dir, 'mysql-query.yaml');
    await writeFile(
      rules,
      [
        'version: 1',
        'sources:',
        '  shop: { kind: mysql, url: "mysql://root@127.0.0.1:3306/shop" }',
        'families:',
        '  - name: product',
        '    pattern: "product:{sku}"',
        '    source: shop',
        '    query: "SELECT sku, title FROM products WHERE sku IN (?)"',
        '    ttl: 1h',
      ].join('\n'),
    );
    const { code, packages } = await packagesLoaded(['rules', 'validate', rules]);
    expect(code).toBe(0);
    // The parser is loaded with require(): the import log must see CommonJS loads too, or the
    // assertions of the other tests that it is not loaded would prove nothing.
    expect(packages.has('node-sql-parser')).toBe(true);
    for (const name of ['ioredis', 'pg', 'mysql2', 'libpg-query']) expect(packages.has(name), name).toBe(false);
  });
});

describe('help without loading the commands', () => {
  it('--help loads no driver, parser, logger or table module', async () => {
    const { code, packages } = await packagesLoaded(['--help']);
    expect(code).toBe(0);
    for (const name of HEAVY) expect(packages.has(name), name).toBe(false);
  });

  it('lists every command as it does with every command loaded', async () => {
    const outlined = await buildProgram([], []);
    const loaded = await buildProgram();
    expect(outlined.helpInformation()).toBe(loaded.helpInformation());
    expect(outlined.commands.map((c) => c.name())).toEqual(loaded.commands.map((c) => c.name()));
  });
});

describe('commandsFor', () => {
  it('loads the named command alone (help NAME names NAME), none for --version, help or a typo', () => {
    expect(commandsFor(['audit', '--rules', 'r.yaml'])).toEqual(['audit']);
    expect(commandsFor(['rules', 'validate', 'x'])).toEqual(['rules']);
    expect(commandsFor(['help', 'audit'])).toEqual(['audit']);
    expect(commandsFor(['--help', 'merge'])).toEqual(['merge']);
    expect(commandsFor(['--version'])).toEqual([]);
    expect(commandsFor(['-V'])).toEqual([]);
    expect(commandsFor([])).toEqual([]);
    expect(commandsFor(['--help'])).toEqual([]);
    expect(commandsFor(['help'])).toEqual([]);
    expect(commandsFor(['audti'])).toEqual([]);
    expect(commandsFor(['toString'])).toEqual([]);
  });
});
