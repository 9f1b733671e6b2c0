/**
 * The `mysql` source kind: MySQL and MariaDB through mysql2. The driver is imported only when a
 * loader or an introspection is created (loader.ts, introspect.ts).
 */
import type { SourceKindDescriptor } from '../descriptor.js';
import { mysqlCategory } from './catalog-category.js';
import { quoteMysqlIdentifier } from './identifiers.js';

/** A MySQL server holds many databases; init reads one, the URL's (a PostgreSQL connection is to one already). */
export const NO_DATABASE = 'init reads only the tables of the database the URL names';

export function noDatabaseHint(name: string): string {
  return `name the database in the URL's path, e.g. --source ${name}=mysql://user@host:3306/shop`;
}

export const MYSQL_SOURCE = {
  url: { schemes: ['mysql:', 'mariadb:'], example: 'mysql://user@host:3306/database' },
  rules: {
    needsQueryOrTable: true,
    readOnlyQueryProblem: async (sql) => (await import('./read-only-query.js')).mysqlReadOnlyProblem(sql),
    settingsProblems: null,
    queryProblems: (query) => (query.includes('?') ? [] : ['a mysql "query" must take the batch of ids as ?, like "SELECT ... FROM products WHERE sku IN (?)"']),
  },
  sql: {
    quoteIdentifier: quoteMysqlIdentifier,
    plainName: /^[A-Za-z_][A-Za-z0-9_$]*$/,
    batchCondition: (key) => `${key} IN (?)`,
  },
  tls: {
    noTlsHint: 'the server offers no TLS: use ssl-mode=PREFERRED (TLS when offered) or ssl-mode=DISABLED in the url',
    untrustedHint: "the server's certificate was not trusted: name its CA with ssl-ca=FILE in the url (or, to skip verification, --insecure)",
  },
  columnTypes: { category: (dataType, columnType) => mysqlCategory(dataType, columnType ?? dataType) },
  createLoader: async (spec, options) => (await import('./connect.js')).createMysqlLoader(spec, options),
  introspection: {
    introspect: async (spec, options) => (await import('./introspect.js')).introspectMysql(spec, options),
    namespace: 'database',
    // mysql2 takes the database from the URL's path alone (a ?database= parameter is ignored).
    urlProblem: (url, name) => (url.pathname.replace(/^\//, '') === '' ? { problem: `names no database: ${NO_DATABASE}`, hint: noDatabaseHint(name) } : undefined),
    failureHint: 'init reads information_schema; check that the user may read it and that the server answers',
  },
} satisfies SourceKindDescriptor;
