/**
 * The `module` source kind: a loader the user writes (loader.ts wraps it). It has no URL scheme,
 * no SQL, no TLS of ours and no catalog: each of those parts is null, and init says it cannot
 * read such a source's schema.
 */
import type { SourceKindDescriptor } from '../descriptor.js';

export const MODULE_SOURCE = {
  url: null,
  rules: {
    // The module gives `query` and `table` whatever meaning it likes.
    needsQueryOrTable: false,
    queryDialect: null,
    queryProblems: () => [],
  },
  sql: null,
  tls: null,
  columnTypes: null,
  createLoader: async (spec, options) => (await import('./loader.js')).createModuleLoader(spec, options),
  introspection: null,
} satisfies SourceKindDescriptor;
