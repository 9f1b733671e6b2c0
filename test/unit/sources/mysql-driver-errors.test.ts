/**
 * The MySQL/MariaDB failure classifiers against mysql2 errors recorded from a real MariaDB
 * (test/fixtures/driver-errors/mysql2.json; record-mysql2.test.ts there says how to re-record):
 * the category each error falls in, the error and exit code the user then gets, and that the
 * message names the cause and never the password of the source's URL.
 */
import { errorMessage } from '../../../src/sources/errors.js';
import { classifyFailure, isMysqlConnectionLimit } from '../../../src/sources/mysql/errors.js';
import { describeRecordedSourceErrors, type ExpectedSourceError } from './recorded-source-errors.js';

const SECRET = 'My-S3cret-pw';
const CREDENTIALS_HINT = /check the user and password in the url of source "shop"/;

const EXPECTED: Record<string, ExpectedSourceError> = {
  'connection-refused': { failure: 'connection', atConnect: true, says: /: connection refused$/, hint: /is the mysql server running and reachable/ },
  'unknown-user-1045': { failure: 'connection', atConnect: true, says: /Access denied for user 'sc_nouser_\w+'@'127\.0\.0\.1' \(using password: YES\)/, hint: CREDENTIALS_HINT },
  // MariaDB's answer for some unknown user names: a code of its own, the same SQLSTATE 28000.
  'unknown-user-1698': { failure: 'connection', atConnect: true, says: /Access denied for user 'sc_nouser_\w+'@'127\.0\.0\.1'/ },
  'unknown-database': { failure: 'connection', atConnect: true, says: /Unknown database 'sc_missing_\w+'/, hint: /check the database name/ },
  'tls-not-supported': { failure: 'connection', atConnect: true, says: /Server does not support secure connection/, noTls: true },
  'access-denied': { failure: 'connection', atConnect: true, says: /Access denied for user 'sc_limit_\w+'/, hint: CREDENTIALS_HINT },
  'user-connection-limit': { failure: 'connection', atConnect: true, says: /has exceeded the 'max_user_connections' resource/, connectionLimit: true },
  'no-such-table': { failure: 'query', says: /Table 'mysql\.sc_missing_\w+' doesn't exist/ },
  'bad-field': { failure: 'query', says: /Unknown column 'no_such_column'/ },
  'parse-error': { failure: 'query', says: /error in your SQL syntax.*near 'SELEC 1'/ },
  'statement-timeout': { failure: 'timeout', says: /max_statement_time exceeded/ },
  'client-timeout': { failure: 'timeout', says: /Query inactivity timeout/ },
  'read-only-transaction': { failure: 'query', says: /Cannot execute statement in a READ ONLY transaction/ },
  'lock-wait-timeout': { failure: 'timeout', says: /Lock wait timeout exceeded/ },
  'query-interrupted': { failure: 'timeout', says: /Query execution was interrupted/ },
  'killed-during-query': { failure: 'connection', says: /Connection lost: The server closed the connection/ },
  'query-after-kill': { failure: 'connection', says: /connection is in closed state/ },
  'killed-idle': { failure: 'connection', says: /connection is in closed state/ },
  'pool-closed': { failure: 'connection', says: /Pool is closed/ },
};

describeRecordedSourceErrors({
  driver: 'mysql2',
  spec: { name: 'shop', kind: 'mysql', url: `mysql://app:${SECRET}@127.0.0.1:3306/shop` },
  secret: SECRET,
  shownUrl: 'mysql://app:***@127.0.0.1:3306/shop',
  classify: classifyFailure,
  isConnectionLimit: isMysqlConnectionLimit,
  describeQueryError: errorMessage,
  expected: EXPECTED,
});
