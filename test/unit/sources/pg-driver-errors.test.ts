/**
 * The PostgreSQL failure classifiers against node-postgres errors recorded from a real server
 * (test/fixtures/driver-errors/pg.json; record-pg.test.ts there says how to re-record): the
 * category each error falls in, the error and exit code the user then gets, and that the message
 * names the cause and never the password of the source's URL.
 */
import { classifyFailure, describeQueryError, isPgConnectionLimit } from '../../../src/sources/postgres/errors.js';
import { describeRecordedSourceErrors, type ExpectedSourceError } from './recorded-source-errors.js';

const SECRET = 'Pg-S3cret-pw';

const EXPECTED: Record<string, ExpectedSourceError> = {
  'connection-refused': { failure: 'connection', atConnect: true, says: /: connection refused$/, hint: /is the postgres server running and reachable/ },
  'unknown-database': { failure: 'connection', atConnect: true, says: /database "sc_missing_\w+" does not exist/, hint: /check the database name/ },
  'unknown-role': { failure: 'connection', atConnect: true, says: /role "sc_norole_\w+" does not exist/, hint: /check the user and password/ },
  'tls-not-supported': { failure: 'connection', atConnect: true, says: /does not support SSL/, noTls: true },
  'too-many-connections': { failure: 'connection', atConnect: true, says: /too many connections for role/, connectionLimit: true },
  'undefined-table': { failure: 'query', says: /relation "sc_missing_\w+" does not exist/ },
  'undefined-column': { failure: 'query', says: /column "no_such_column" does not exist/ },
  'syntax-error': { failure: 'query', says: /syntax error at or near "SELEC"/ },
  'bind-message': { failure: 'query', says: /the query does not use \$1/ },
  'read-only-transaction': { failure: 'query', says: /cannot execute CREATE SCHEMA in a read-only transaction/ },
  'statement-timeout': { failure: 'timeout', says: /canceling statement due to statement timeout/ },
  'query-canceled': { failure: 'timeout', says: /canceling statement due to user request/ },
  'permission-denied': { failure: 'query', says: /permission denied for table items/ },
  'terminated-during-query': { failure: 'connection', says: /terminating connection due to administrator command/ },
  'query-after-termination': { failure: 'connection', says: /Connection terminated unexpectedly/ },
  'terminated-idle': { failure: 'connection', says: /not queryable/ },
  'query-read-timeout': { failure: 'timeout', says: /Query read timeout/ },
  'pool-connect-timeout': { failure: 'timeout', says: /timeout exceeded when trying to connect/ },
  'pool-ended': { failure: 'connection', says: /Cannot use a pool after calling end/ },
};

describeRecordedSourceErrors({
  driver: 'pg',
  spec: { name: 'main', kind: 'postgres', url: `postgres://app:${SECRET}@127.0.0.1:5432/test` },
  secret: SECRET,
  shownUrl: 'postgres://app:***@127.0.0.1:5432/test',
  classify: classifyFailure,
  isConnectionLimit: isPgConnectionLimit,
  describeQueryError: describeQueryError,
  expected: EXPECTED,
});
