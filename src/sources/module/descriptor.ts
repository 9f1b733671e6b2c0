/**
 * The `module` source kind: a loader the user writes (loader.ts wraps it). It has no URL scheme,
 * no SQL, no TLS of ours and no catalog: each of those parts is null, and init says it cannot
 * read such a source's schema.
 */
import { stat } from 'node:fs/promises';
import type { SourceSpec } from '../../config/types.js';
import type { SourceKindDescriptor } from '../descriptor.js';

/**
 * The loader module must exist, so that `rules validate` in CI catches a wrong path rather than
 * the first audit. Whether it loads and keeps the contract is the audit's check. `spec.module` is
 * already resolved against the rules file's folder (config/compile-rules.ts).
 */
async function missingModuleFile(spec: SourceSpec): Promise<string[]> {
  if (spec.module === undefined) return [];
  const isFile = await stat(spec.module).then(
    (info) => info.isFile(),
    () => false,
  );
  return isFile ? [] : [`loader module ${spec.module} does not exist; "module" is resolved against the rules file's folder`];
}

export const MODULE_SOURCE = {
  url: null,
  rules: {
    // The module gives `query` and `table` whatever meaning it likes.
    needsQueryOrTable: false,
    readOnlyQueryProblem: null,
    queryProblems: () => [],
    settingsProblems: missingModuleFile,
  },
  sql: null,
  tls: null,
  columnTypes: null,
  createLoader: async (spec, options) => (await import('./loader.js')).createModuleLoader(spec, options),
  introspection: null,
} satisfies SourceKindDescriptor;
