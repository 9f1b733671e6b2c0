import { describe, expect, it } from 'vitest';
import { postgresReadOnlyProblem } from '../../../../src/sources/postgres/read-only-query.js';

/** Real family queries, as the rules files, the README and the tests write them: all must pass. */
const PG_ACCEPTED = [
  'SELECT id, name FROM users WHERE id = ANY($1)',
  'SELECT id::text AS id, price::numeric(10,2) AS price FROM app.items WHERE id = ANY($1::bigint[]);',
  'SELECT t.* FROM app.orders t WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::int[]))',
  'WITH x AS (SELECT id, name FROM users WHERE id = ANY($1)) SELECT * FROM x',
  "SELECT id, prefs->>'theme' AS theme, jsonb_build_object('a', 1) AS j, to_jsonb(u) - 'password' AS doc FROM users u WHERE id = ANY($1)",
  'SELECT u.id, json_agg(o.total ORDER BY o.id) AS totals FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.id = ANY($1) GROUP BY u.id',
  'SELECT DISTINCT ON (id) id, name FROM users WHERE id = ANY($1) ORDER BY id, updated_at DESC',
  'SELECT a.account_id AS "accountId", GREATEST(a.updated_at, p.updated_at) AS "updatedAt" FROM accounts a JOIN plans p ON p.plan_id = a.plan_id WHERE a.account_id = ANY($1)',
  'SELECT id, x.y FROM users JOIN LATERAL unnest(tags) WITH ORDINALITY AS x(y, n) ON true WHERE id = ANY($1)',
  "SELECT id, $$dollar$$ AS s, pg_sleep(0)::text AS nap FROM users WHERE id = ANY($1) -- trailing comment",
  'SELECT * FROM "App"."user" WHERE id = ANY($1) UNION ALL SELECT * FROM "App".admins WHERE id = ANY($1)',
];

const PG_REFUSED: [string, RegExp][] = [
  ["SELECT id, lo_from_bytea(0, 'x'::bytea) AS o FROM users WHERE id = ANY($1)", /calls lo_from_bytea\(\)/],
  ["SELECT id, pg_catalog.lo_import('/etc/passwd') FROM users WHERE id = ANY($1)", /calls pg_catalog\.lo_import\(\)/],
  ["SELECT u.id FROM users u, dblink_exec('dbname=test', 'DELETE FROM users') AS d WHERE u.id = ANY($1)", /calls dblink_exec\(\)/],
  ["SELECT id, \"LO_IMPORT\"('/x') FROM users WHERE id = ANY($1)", /calls LO_IMPORT\(\)/],
  ["SELECT id, query_to_xml('SELECT lo_import(''/x'')', true, true, '') FROM users WHERE id = ANY($1)", /calls query_to_xml\(\)/],
  ['SELECT id, nextval(\'s\') FROM users WHERE id = ANY($1)', /calls nextval\(\)/],
  ['SELECT id, pg_advisory_lock(1) FROM users WHERE id = ANY($1)', /calls pg_advisory_lock\(\)/],
  ["SELECT id, pg_read_file('/etc/passwd') FROM users WHERE id = ANY($1)", /calls pg_read_file\(\)/],
  ['SELECT id, pg_terminate_backend(1) FROM users WHERE id = ANY($1)', /calls pg_terminate_backend\(\)/],
  ['WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d WHERE id = ANY($1)', /holds a DELETE statement/],
  ['SELECT id FROM users WHERE id = ANY($1) FOR UPDATE', /locking clause/],
  ['SELECT id FROM users WHERE id = ANY($1) FOR SHARE', /locking clause/],
  ['SELECT id INTO copy FROM users WHERE id = ANY($1)', /SELECT \.\.\. INTO/],
  ['SELECT id FROM users WHERE id = ANY($1); DELETE FROM users', /holds 2 statements/],
  ['UPDATE users SET name = name WHERE id = ANY($1) RETURNING id', /not a SELECT \(UPDATE statement\)/],
  ['SELEC id FROM users', /cannot be parsed as PostgreSQL \(syntax error at or near "SELEC"\); expected one plain SELECT/],
];

describe('PostgreSQL read-only query policy', () => {
  it.each(PG_ACCEPTED)('accepts the PostgreSQL query %s', async (sql) => {
    expect(await postgresReadOnlyProblem(sql)).toBeUndefined();
  });
  it.each(PG_REFUSED)('refuses the PostgreSQL query %s', async (sql, why) => {
    expect(await postgresReadOnlyProblem(sql)).toMatch(why);
  });
});
