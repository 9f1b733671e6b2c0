/**
 * The loader registry: one factory per source kind. Adding a kind is a file and one line here.
 */
import type { SourceKind, SourceSpec } from '../config/types.js';
import { UsageError } from '../errors.js';
import { createModuleLoader } from './module.js';
import { createMysqlLoader } from './mysql.js';
import { createPostgresLoader } from './postgres.js';
import type { LoaderOptions, SourceLoader, SourceLoaderFactory } from './types.js';

export const SOURCE_LOADERS = {
  postgres: createPostgresLoader,
  mysql: createMysqlLoader,
  module: createModuleLoader,
} satisfies Record<SourceKind, SourceLoaderFactory>;

/**
 * A ready loader for one source: connected and verified, or a ConnectionError (exit 3) naming the
 * source with its URL redacted (a `module` source also fails with a UsageError, exit 2, when its
 * module cannot be loaded or does not keep the factory contract: see module.ts).
 */
export async function createSourceLoader(spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  const kind: SourceKind = spec.kind;
  const factory: SourceLoaderFactory | undefined = Object.hasOwn(SOURCE_LOADERS, kind) ? SOURCE_LOADERS[kind] : undefined;
  if (factory === undefined) {
    throw new UsageError(`source "${spec.name}": unknown kind "${String(kind)}"; expected one of ${Object.keys(SOURCE_LOADERS).join(', ')}`);
  }
  return factory(spec, options);
}

export { SourceQueryError } from './types.js';
export type { LoaderOptions, SourceBatch, SourceLoader, SourceLoaderFactory } from './types.js';
export { SourceCheckError } from './errors.js';
