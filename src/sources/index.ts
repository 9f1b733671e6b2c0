/**
 * What the rest of the program uses of the sources: a ready loader for a source spec. The kinds
 * themselves are in registry.ts; importing this module loads no database driver.
 */
import type { SourceSpec } from '../config/types.js';
import { UsageError } from '../errors.js';
import { SOURCE_KIND_NAMES, SOURCE_KINDS, sourceKind, type SourceKind } from './registry.js';
import type { LoaderOptions, SourceLoader, SourceLoaderFactory } from './types.js';

/** Each kind's loader factory, by kind (the descriptors' createLoader). */
export const SOURCE_LOADERS = Object.fromEntries(SOURCE_KIND_NAMES.map((kind) => [kind, SOURCE_KINDS[kind].createLoader])) as Record<SourceKind, SourceLoaderFactory>;

/**
 * A ready loader for one source: connected and verified, or a ConnectionError (exit 3) naming the
 * source with its URL redacted (a `module` source also fails with a UsageError, exit 2, when its
 * module cannot be loaded or does not keep the factory contract: see module/loader.ts).
 */
export async function createSourceLoader(spec: SourceSpec, options: LoaderOptions): Promise<SourceLoader> {
  const descriptor = sourceKind(spec.kind);
  if (descriptor === undefined) {
    throw new UsageError(`source "${spec.name}": unknown kind "${String(spec.kind)}"; expected one of ${SOURCE_KIND_NAMES.join(', ')}`);
  }
  return descriptor.createLoader(spec, options);
}

export { SOURCE_KINDS, type SourceKind } from './registry.js';
export type { SourceKindDescriptor } from './descriptor.js';
export { SourceQueryError } from './types.js';
export type { LoaderOptions, SourceBatch, SourceLoader, SourceLoaderFactory } from './types.js';
export { SourceCheckError } from './errors.js';
