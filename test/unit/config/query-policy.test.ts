import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';
import { RulesError } from '../../../src/errors.js';
import { mysqlReadOnlyProblem } from '../../../src/sources/mysql/read-only-query.js';
import { postgresReadOnlyProblem } from '../../../src/sources/postgres/read-only-query.js';

const HEADER = `version: 1
sources:
  main: { kind: postgres, url: "postgres://127.0.0.1/app" }
  shop: { kind: mysql, url: "mysql://root@127.0.0.1:3306/shop" }
families:
`;

const HINT = 'shadowcheck sends a family query only when it can read it as one plain SELECT; rewrite it as one, or use `table:` and let the loader write the SELECT';

describe('loadRulesFile: the read-only query policy', () => {
  let dir: string;
  let count = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowcheck-query-policy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function problemsOf(families: string, env: NodeJS.ProcessEnv = {}): Promise<RulesError['problems']> {
    const file = join(dir, `rules-${++count}.yaml`);
    await writeFile(file, HEADER + families);
    const error = await loadRulesFile(file, env).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error === undefined) return [];
    if (!(error instanceof RulesError)) throw error;
    expect(error.exitCode).toBe(2);
    return error.problems;
  }

  it("reports each refused query at its line, in the policy's own words, with the file's other problems", async () => {
    const lo = "SELECT id, lo_import('/etc/passwd') AS o FROM users WHERE id = ANY($1)";
    const outfile = "SELECT sku FROM products WHERE sku IN (?) INTO OUTFILE '/tmp/x'";
    const problems = await problemsOf(`  - name: lo
    pattern: "user:{id}"
    source: main
    query: "${lo}"
    ttl: 300s
  - name: out
    pattern: "product:{sku}"
    source: shop
    query: "${outfile}"
    tll: 300s
`);
    expect(problems.map((p) => [p.line, p.column, p.family])).toEqual([
      [9, 12, 'lo'],
      [14, 12, 'out'],
      [15, 5, 'out'],
    ]);
    expect(problems[2]?.message).toMatch(/^unknown key "tll"/);
    // The loaders' function, not a copy: the same verdict, followed by the same hint.
    expect(problems[0]?.message).toBe(`${await postgresReadOnlyProblem(lo)}; ${HINT}`);
    expect(problems[1]?.message).toBe(`${await mysqlReadOnlyProblem(outfile)}; ${HINT}`);
    expect(problems[1]?.message).toMatch(/^the query has SELECT \.\.\. INTO/);
  });

  it('checks each query with its source kind: $1 and ? are each only read by their own dialect', async () => {
    const problems = await problemsOf(`  - name: pg-lock
    pattern: "user:{id}"
    source: main
    query: "SELECT id FROM users WHERE id = ANY($1) FOR SHARE"
    ttl: 300s
  - name: my-lock
    pattern: "product:{sku}"
    source: shop
    query: "SELECT sku FROM products WHERE sku IN (?) LOCK IN SHARE MODE"
    ttl: 300s
  - name: my-ok
    pattern: "order:{id}"
    source: shop
    query: "SELECT id, total FROM orders WHERE id IN (?)"
    ttl: 300s
`);
    expect(problems.map((p) => [p.family, p.message.replace(/;.*/, '')])).toEqual([
      ['pg-lock', 'the query has a locking clause (FOR UPDATE / FOR SHARE), which takes row locks'],
      ['my-lock', 'the query has a locking clause (FOR UPDATE / LOCK IN SHARE MODE), which takes row locks'],
    ]);
  });

  it('adds nothing to a query that already has a problem (no $1, an unset ${VAR}) or to a family without a known source', async () => {
    const problems = await problemsOf(`  - name: no-param
    pattern: "user:{id}"
    source: main
    query: "SELECT * FROM users WHERE id IN (?)"
    ttl: 300s
  - name: unset
    pattern: "order:{id}"
    source: main
    query: "SELECT * FROM \${SCHEMA}.orders WHERE id = ANY($1)"
    ttl: 300s
  - name: nowhere
    pattern: "item:{id}"
    source: elsewhere
    query: "SELECT lo_import('/etc/passwd')"
    ttl: 300s
`);
    expect(problems.map((p) => [p.line, p.family])).toEqual([
      [9, 'no-param'],
      [14, 'unset'],
      [18, 'nowhere'],
    ]);
    expect(problems.map((p) => p.message).join('\n')).not.toMatch(/plain SELECT/);
  });

  it('loads a file whose queries the policy accepts', async () => {
    expect(
      await problemsOf(`  - name: users
    pattern: "user:{id}"
    source: main
    query: "SELECT id, name FROM \${SCHEMA:-app}.users WHERE id = ANY($1::bigint[])"
    ttl: 300s
  - name: products
    pattern: "product:{sku}"
    source: shop
    table: products
    ttl: 300s
`),
    ).toEqual([]);
  });
});
