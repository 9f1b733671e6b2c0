import { describe, expect, it } from 'vitest';
import { mysqlReadOnlyProblem } from '../../../../src/sources/mysql/read-only-query.js';

/** Real family queries, as the rules files, the README and the tests write them: all must pass. */
const MYSQL_ACCEPTED = [
  'SELECT sku, name, price FROM products WHERE sku IN (?)',
  "SELECT JSON_EXTRACT(doc, '$.a') AS a, doc->>'$.b' AS b, CAST(x AS CHAR) AS c, sku FROM products WHERE sku IN (?);",
  'WITH t AS (SELECT sku FROM products) SELECT * FROM t WHERE sku IN (?)',
  "SELECT tenant, id, GROUP_CONCAT(x ORDER BY y SEPARATOR ',') AS xs FROM t WHERE (tenant, id) IN (?) GROUP BY tenant, id",
  'SELECT `a`.`item_id` AS `itemId` FROM shop.items a WHERE a.item_id IN (?)',
  'SELECT i.id, i.name FROM items i CROSS JOIN (SELECT SLEEP(0.3) AS nap) AS z WHERE i.id IN (?)',
];

const MYSQL_REFUSED: [string, RegExp][] = [
  ["SELECT sku, name FROM products WHERE sku IN (?) INTO OUTFILE '/tmp/x'", /SELECT \.\.\. INTO/],
  ["SELECT sku INTO DUMPFILE '/tmp/y' FROM products WHERE sku IN (?)", /SELECT \.\.\. INTO/],
  ['SELECT sku FROM products WHERE sku IN (?) INTO @a', /SELECT \.\.\. INTO/],
  ["SELECT sku FROM products WHERE sku IN (?) /*!INTO OUTFILE '/tmp/z'*/", /executable comment/],
  ['SELECT sku FROM products WHERE sku IN (?) FOR UPDATE', /locking clause/],
  ['SELECT sku FROM products WHERE sku IN (?) LOCK IN SHARE MODE', /locking clause/],
  ["SELECT LOAD_FILE('/etc/passwd') AS f, sku FROM products WHERE sku IN (?)", /calls LOAD_FILE\(\)/],
  ["SELECT sku, GET_LOCK('x', 10) FROM products WHERE sku IN (?)", /calls GET_LOCK\(\)/],
  ['SELECT sku FROM products WHERE sku IN (?); DELETE FROM products', /holds 2 statements/],
  ['DELETE FROM products WHERE sku IN (?)', /not a SELECT \(DELETE statement\)/],
  ['SELECT FROM WHERE', /cannot be parsed as MySQL\/MariaDB/],
];

describe('MySQL / MariaDB read-only query policy', () => {
  it.each(MYSQL_ACCEPTED)('accepts the MySQL query %s', async (sql) => {
    expect(await mysqlReadOnlyProblem(sql)).toBeUndefined();
  });
  it.each(MYSQL_REFUSED)('refuses the MySQL query %s', async (sql, why) => {
    expect(await mysqlReadOnlyProblem(sql)).toMatch(why);
  });
});
