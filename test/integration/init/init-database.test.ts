/**
 * `shadowcheck init` reads only the database a MySQL/MariaDB source URL names, through the built
 * CLI. Two throwaway databases on the same server hold a same-named table; the one the URL does
 * not name holds more of the cached ids (all 40, against 30), so an init that read every database
 * on the server would propose it. Also: a MySQL URL without a database is a usage error (exit 2).
 *
 * Isolation: a throwaway redis-server of this file's own (init SCANs the whole database, so a
 * shared one would mix in other tests' keys) and two throwaway `sc_<hex>` MariaDB databases, all
 * removed afterwards.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE, type CliResult } from '../../e2e/cli.js';
import { createMysqlSandbox, MYSQL_URL, type Sandbox } from '../helpers/db.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const CACHED = 40;
const IN_URL_DATABASE = 30;

let server: RedisServer | undefined;
let named: Sandbox | undefined;
let other: Sandbox | undefined;
let init: CliResult;

const widget = (id: number) => ({ id, name: `widget ${id}`, colour: id % 2 === 0 ? 'red' : 'blue' });

async function createWidgets(db: Sandbox, count: number): Promise<void> {
  await db.exec('CREATE TABLE widgets (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, colour VARCHAR(16) NOT NULL)');
  const rows = Array.from({ length: count }, (_, i) => widget(i + 1));
  await db.exec('INSERT INTO widgets (id, name, colour) VALUES ?', [rows.map((r) => [r.id, r.name, r.colour])]);
}

beforeAll(async () => {
  server = await startRedisServer();
  named = await createMysqlSandbox();
  other = await createMysqlSandbox();
  await createWidgets(named, IN_URL_DATABASE);
  await createWidgets(other, CACHED);
  const redis = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect();
  try {
    const pipe = redis.pipeline();
    for (let id = 1; id <= CACHED; id++) pipe.set(`widget:${id}`, JSON.stringify(widget(id)), 'EX', 600);
    await pipe.exec();
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  init = await runCli(['init', '--redis', `redis://127.0.0.1:${server.port}/0`, '--source', `shop=${named.url}`], {}, 90_000);
}, 120_000);

afterAll(async () => {
  await named?.drop();
  await other?.drop();
  await server?.kill();
});

describe('init reads only the database the MySQL URL names', () => {
  it("proposes the URL database's table, though another database's same-named table holds more of the probed ids", () => {
    expect(init.code, init.stderr).toBe(0);
    const proposal = init.stdout;
    expect(proposal).toMatch(/pattern: "widget:\{id\}"/);
    expect(proposal).toContain(`table: ${named?.name ?? '?'}.widgets\n`);
    expect(proposal).toContain(`${IN_URL_DATABASE} of ${CACHED} probed ids exist in ${named?.name ?? '?'}.widgets`);
    expect(proposal).toContain('the 1 table of shop');
    // Not proposed, not named in a review note, not listed: the other database was never read.
    expect(`${proposal}\n${init.stderr}`).not.toContain(other?.name ?? '?');
  });

  it.each([
    Object.assign(new URL(MYSQL_URL), { pathname: '/' }).toString(),
    Object.assign(new URL(MYSQL_URL), { pathname: '' }).toString().replace(/\/$/, ''),
  ])('a MySQL URL without a database (%s) is a usage error: exit 2, saying to name one', async (url) => {
    const result = await runCli(['init', '--redis', `redis://127.0.0.1:${server?.port ?? 1}/0`, '--source', `shop=${url}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/names no database: init reads only the tables of the database the URL names/);
    expect(result.stderr).toMatch(/hint: name the database in the URL's path, e\.g\. --source shop=mysql:\/\/user@host:3306\/shop/);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stdout).toBe('');
  });
});
