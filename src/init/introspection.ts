/**
 * Which introspector reads a source's schema: the one its kind's descriptor names. A kind whose
 * descriptor has none (`introspection: null`) is refused with a message naming it, never read
 * with another kind's catalog queries.
 */
import { UsageError } from '../errors.js';
import type { SourceIntrospectionParts } from '../sources/descriptor.js';
import { SOURCE_KIND_NAMES, SOURCE_KINDS, sourceKind, type SourceKind } from '../sources/registry.js';

/** The kinds init can read, for messages. */
export function introspectableKinds(): SourceKind[] {
  return SOURCE_KIND_NAMES.filter((kind) => SOURCE_KINDS[kind].introspection !== null);
}

/**
 * The introspection of `source`'s kind, or a UsageError (exit 2) saying init cannot read a source
 * of that kind. `kinds` is the registry; tests pass their own.
 */
export function introspectionOf(
  source: { name: string; kind: string },
  kinds: Readonly<Record<string, { introspection: SourceIntrospectionParts | null }>> = SOURCE_KINDS,
): SourceIntrospectionParts {
  const descriptor = Object.hasOwn(kinds, source.kind) ? kinds[source.kind] : sourceKind(source.kind);
  if (descriptor?.introspection != null) return descriptor.introspection;
  const readable = Object.entries(kinds).flatMap(([kind, d]) => (d.introspection === null ? [] : [kind]));
  return cannotIntrospect(source, readable);
}

function cannotIntrospect(source: { name: string; kind: string }, readable: readonly string[]): never {
  throw new UsageError(`source "${source.name}": init cannot read the schema of a ${source.kind} source (the ${source.kind} kind has no introspection)`, {
    hint: `init proposes families from ${readable.join(' or ')} sources; write the families of source "${source.name}" by hand`,
  });
}
