/**
 * The rules checked against the live sources before anything is judged (issue 13, part 3), through
 * the built CLI on real PostgreSQL and MariaDB: a misspelled field, a field neither side has, a
 * field in the wrong case and a query that does not select a listed field each exit 2 naming
 * file:line, the family, the field and the columns that exist; `rules validate --connect` runs the
 * same checks without auditing; a compared field no cached value holds is a warning.
 *
 * Isolation: logical database 11 of a private redis-server (only keys under a random `rck<hex>:` prefix), a throwaway
 * `sc_<hex>` schema and database, a temp dir for the rules files; all removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE } from '../../e2e/cli.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { createMysqlSandbox, createPgSandbox, type Sandbox } from '../helpers/db.js';
import { freePort, openTestDb, type TestDb } from '../helpers/redis.js';

const REDIS_DB = 11;

interface Engine {
  name: string;
  kind: 'postgres' | 'mysql';
  sandbox(): Promise<Sandbox>;
  /** The family's batched query selecting `columns`. */
  byIds(table: string, columns: string): string;
}

const ENGINES: Engine[] = [
  { name: 'PostgreSQL', kind: 'postgres', sandbox: createPgSandbox, byIds: (t, c) => `SELECT ${c} FROM ${t} WHERE id = ANY($1)` },
  { name: 'MariaDB', kind: 'mysql', sandbox: createMysqlSandbox, byIds: (t, c) => `SELECT ${c} FROM ${t} WHERE id IN (?)` },
];

/** Where a name sits in the rules file: `file:line:column` of its first occurrence on the line starting with `prefix`. */
function positionOf(file: string, lines: readonly string[], prefix: string, name: string): string {
  const index = lines.findIndex((l) => l.trimStart().startsWith(prefix));
  const line = lines[index] as string;
  return `${file}:${index + 1}:${line.indexOf(name, line.indexOf(prefix) + prefix.length) + 1}`;
}

for (const engine of ENGINES) {
  describe(`rules checked against live ${engine.name} before anything is judged`, () => {
    const prefix = `rck${randomBytes(4).toString('hex')}:`;
    let testDb: TestDb;
    let box: Sandbox;
    let dir: TempDir;
    let users: string;

    /** Writes a rules file with one family `users` (plus `extra` families) and returns its path and lines. */
    async function rules(name: string, family: string[], extra: string[] = []): Promise<{ file: string; lines: string[] }> {
      const lines = [
        'version: 1',
        'sources:',
        `  main: { kind: ${engine.kind}, url: "${box.url}" }`,
        'families:',
        '  - name: users',
        `    pattern: "${prefix}user:{id}"`,
        '    source: main',
        '    key: id',
        '    ttl: 300s',
        ...family,
        ...extra,
      ];
      return { file: await dir.write(name, `${lines.join('\n')}\n`), lines };
    }

    const audit = (file: string, ...flags: string[]) =>
      runCli(['audit', '--rules', file, '--redis', testDb.url, '--all', '--confirm-delay', '0', ...flags]);

    beforeAll(async () => {
      testDb = await openTestDb(REDIS_DB);
      box = await engine.sandbox();
      dir = await makeTempDir('sc-rules-check-');
      users = box.table('users');
      await box.exec(`CREATE TABLE ${users} (id INTEGER PRIMARY KEY, name VARCHAR(50), email VARCHAR(100), plan VARCHAR(20))`);
      await box.exec(`INSERT INTO ${users} VALUES (1, 'Ada', 'ada@example.com', 'pro'), (2, 'Bob', 'bob@example.com', 'free'), (3, 'Cy', 'cy@example.com', NULL)`);
      for (const [id, name, email, plan] of [[1, 'Ada', 'ada@example.com', 'pro'], [2, 'Bob', 'bob@example.com', 'free'], [3, 'Cy', 'cy@example.com', null]] as const) {
        await testDb.redis.set(`${prefix}user:${id}`, JSON.stringify({ name, email, plan }), 'EX', 200);
        // What another writer caches: no plan at all.
        await testDb.redis.set(`${prefix}lean:${id}`, JSON.stringify({ name, email }), 'EX', 200);
      }
    }, 60_000);

    afterAll(async () => {
      if (testDb !== undefined) {
        await testDb.sweep([prefix]);
        await testDb.close();
      }
      await box?.drop();
      await dir?.remove();
    });

    it('a misspelled field exits 2 naming file:line, the family, the field, a did-you-mean and the columns', async () => {
      const { file, lines } = await rules('misspelled.yaml', [`    query: "${engine.byIds(users, 'id, name, email, plan')}"`, '    fields: [name, emial, plan]']);
      const result = await audit(file);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`${positionOf(file, lines, 'fields:', 'emial')} (family "users"): "fields" lists "emial"`);
      expect(result.stderr).toContain('did you mean "email"?');
      expect(result.stderr).toContain('Its columns are: id, name, email, plan');
      expect(result.stderr).not.toMatch(STACK_TRACE);

      // explain runs the same checks for the family of the key it explains.
      const explained = await runCli(['explain', '--rules', file, '--redis', testDb.url, `${prefix}user:1`]);
      expect(explained.code, explained.stderr).toBe(2);
      expect(explained.stderr).toContain(`${positionOf(file, lines, 'fields:', 'emial')} (family "users"): "fields" lists "emial"`);
    });

    it('a field neither side has exits 2 instead of comparing null with null', async () => {
      const { file, lines } = await rules('neither.yaml', [`    table: ${users}`, '    fields: [name, nickname]']);
      const result = await audit(file);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${positionOf(file, lines, 'fields:', 'nickname')} (family "users"): "fields" lists "nickname", which is not a column the table ${users} returns`);
      expect(result.stderr).toContain('Its columns are: id, name, email, plan');
    });

    it('a field in the wrong case exits 2 with a did-you-mean', async () => {
      const { file, lines } = await rules('case.yaml', [`    table: ${users}`, '    fields: [name, Email]']);
      const result = await audit(file);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${positionOf(file, lines, 'fields:', 'Email')} (family "users"): "fields" lists "Email"`);
      expect(result.stderr).toContain('did you mean "email"? (names are case-sensitive)');
    });

    it('a query that does not select a listed field exits 2 naming the columns it does select', async () => {
      const { file, lines } = await rules('unselected.yaml', [`    query: "${engine.byIds(users, 'id, name, email')}"`, '    fields: [name, email, plan]']);
      const result = await audit(file);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${positionOf(file, lines, 'fields:', 'plan')} (family "users"): "fields" lists "plan", which is not a column the query returns; select it in the query`);
      expect(result.stderr).toContain('Its columns are: id, name, email');
    });

    it('rules validate --connect passes a good file and rejects a bad one with the same problems, without auditing', async () => {
      const good = await rules('good.yaml', [`    table: ${users}`, '    fields: [name, email, plan]', '    normalize: { email: lowercase }']);
      const ok = await runCli(['rules', 'validate', good.file, '--connect', '--redis', testDb.url]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`${good.file}: OK: 1 family (users), 1 source; checked against the live sources; cached values sampled: users 3`);
      // No rules warning (the superuser role's warning is about the set-up, not the rules).
      expect(ok.stdout).not.toMatch(/\(family "[^"]+"\): warning/);

      const bad = await rules('bad.yaml', [`    table: ${users}`, '    fields: [name, emial]', '    version: plan', '    updatedAt: updated']);
      const rejected = await runCli(['rules', 'validate', bad.file, '--connect', '--redis', testDb.url]);
      expect(rejected.code, rejected.stderr).toBe(2);
      expect(rejected.stdout).toBe('');
      expect(rejected.stderr).toContain(`${positionOf(bad.file, bad.lines, 'fields:', 'emial')} (family "users"): "fields" lists "emial"`);
      expect(rejected.stderr).toContain(`${positionOf(bad.file, bad.lines, 'updatedAt:', 'updated')} (family "users"): "updatedAt" names "updated"`);
      expect(rejected.stderr).toContain('2 problems in the rules file');
      // Without --connect the file is only checked on its own.
      expect((await runCli(['rules', 'validate', bad.file])).code).toBe(0);
    });

    it('rules validate --connect exits 3 when Redis cannot be reached', async () => {
      const good = await rules('unreachable.yaml', [`    table: ${users}`, '    fields: [name]']);
      const result = await runCli(['rules', 'validate', good.file, '--connect', '--redis', `redis://127.0.0.1:${await freePort()}/0`, '--timeout', '1000']);
      expect(result.code, result.stderr).toBe(3);
    });

    it('a compared field no sampled cache value holds is a warning: in rules validate --connect and in the JSON report', async () => {
      const lean = [
        '  - name: lean',
        `    pattern: "${prefix}lean:{id}"`,
        '    source: main',
        `    table: ${users}`,
        '    key: id',
        '    fields: [name, email, plan]',
        '    ttl: 300s',
      ];
      const { file } = await rules('lean.yaml', [`    table: ${users}`, '    fields: [name, email, plan]'], lean);
      const validated = await runCli(['rules', 'validate', file, '--connect', '--redis', testDb.url]);
      expect(validated.code, validated.stderr).toBe(0);
      expect(validated.stdout).toMatch(/\(family "lean"\): warning: field "plan" is compared, but none of the 3 sampled cache values holds it/);
      expect(validated.stdout).not.toContain('(family "users"): warning');
      // The tests connect as a superuser (postgres, root): a role that could write is said once per source.
      expect(validated.stdout.match(/^warning: source "[^"]+": .+ read-only database role makes/gm)?.length).toBe(1);


      const explained = await runCli(['explain', '--rules', file, '--redis', testDb.url, `${prefix}lean:1`]);
      expect(explained.code, explained.stderr).toBe(0);
      expect(explained.stdout).toContain('warning: field "plan" is compared, but the one sampled cache value does not hold it');

      const result = await audit(file, '--format', 'json');
      const report = JSON.parse(result.stdout) as { warnings?: { kind: string; family: string; field?: string; message: string }[] };
      expect(report.warnings, result.stderr).toContainEqual(
        expect.objectContaining({ kind: 'rules', family: 'lean', field: 'plan', message: expect.stringContaining('none of the 3 sampled cache values holds it') as string }),
      );
      expect(report.warnings?.filter((w) => w.family === 'users')).toEqual([]);
    });
  });
}
