/**
 * The source kinds, one line each. Adding a kind is a folder with its descriptor.ts (see
 * descriptor.ts and the README's "Adding a source kind") and one line here; the `kind:` enum of
 * rules/rules.schema.json lists the same names (a unit test holds them equal).
 */
import type { SourceKindDescriptor } from './descriptor.js';
import { MODULE_SOURCE } from './module/descriptor.js';
import { MYSQL_SOURCE } from './mysql/descriptor.js';
import { POSTGRES_SOURCE } from './postgres/descriptor.js';

export const SOURCE_KINDS = {
  postgres: POSTGRES_SOURCE,
  mysql: MYSQL_SOURCE,
  module: MODULE_SOURCE,
} satisfies Record<string, SourceKindDescriptor>;

/** A rules file's `kind:`. */
export type SourceKind = keyof typeof SOURCE_KINDS;

export const SOURCE_KIND_NAMES = Object.keys(SOURCE_KINDS) as SourceKind[];

export function isSourceKind(name: unknown): name is SourceKind {
  return typeof name === 'string' && Object.hasOwn(SOURCE_KINDS, name);
}

/** The descriptor of a kind named in a rules file, or undefined for a name that is none. */
export function sourceKind(name: unknown): SourceKindDescriptor | undefined {
  return isSourceKind(name) ? SOURCE_KINDS[name] : undefined;
}

/** The kind whose URLs have this scheme (`URL.protocol`, any case), if any. */
export function kindOfScheme(protocol: string): SourceKind | undefined {
  const scheme = protocol.toLowerCase();
  return SOURCE_KIND_NAMES.find((kind) => SOURCE_KINDS[kind].url?.schemes.includes(scheme) === true);
}
