/**
 * The `postgres` source kind: PostgreSQL through node-postgres. The driver is imported only when
 * a loader or an introspection is created (loader.ts, introspect.ts).
 */
import type { SourceKindDescriptor } from '../descriptor.js';
import { pgCategory } from './catalog-category.js';
import { quotePgIdentifier } from './identifiers.js';

export const POSTGRES_SOURCE = {
  url: { schemes: ['postgres:', 'postgresql:'], example: 'postgres://user@host:5432/database' },
  rules: {
    needsQueryOrTable: true,
    readOnlyQueryProblem: async (sql) => (await import('./read-only-query.js')).postgresReadOnlyProblem(sql),
    settingsProblems: null,
    queryProblems(query, arity) {
      const problems: string[] = [];
      if (!/\$1(?!\d)/.test(query)) problems.push('a postgres "query" must take the batch of ids as $1, like "SELECT ... FROM users WHERE id = ANY($1)"');
      if (arity > 1 && !new RegExp(`\\$${arity}(?!\\d)`).test(query)) {
        problems.push(
          `a postgres "query" for a key of ${arity} columns takes one array per column, $1 to $${arity} in placeholder order, ` +
            'each cast to its column\'s type, like "... WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::text[], $2::int[]))"',
        );
      }
      return problems;
    },
  },
  sql: {
    quoteIdentifier: quotePgIdentifier,
    // PostgreSQL folds unquoted names to lower case: only a lower-case name reads as itself.
    plainName: /^[a-z_][a-z0-9_$]*$/,
    batchCondition: (key) => `${key} = ANY($1)`,
  },
  tls: {
    noTlsHint: 'the server offers no TLS: use sslmode=prefer (TLS when offered) or sslmode=disable in the url',
    untrustedHint: "the server's certificate was not trusted: name its CA with sslrootcert=FILE in the url (or, to skip verification, --insecure)",
  },
  columnTypes: { category: (dataType) => pgCategory(dataType) },
  createLoader: async (spec, options) => (await import('./connect.js')).createPostgresLoader(spec, options),
  introspection: {
    introspect: async (spec, options) => (await import('./introspect.js')).introspectPostgres(spec, options),
    namespace: 'schema',
    // A PostgreSQL connection is to one database already.
    urlProblem: () => undefined,
    failureHint: 'init reads information_schema and pg_catalog; check that the user may read them and that the server answers',
  },
} satisfies SourceKindDescriptor;
