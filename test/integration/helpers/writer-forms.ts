/**
 * Shared pieces of the writer-forms audit tests (test/integration/audit/writer-forms-*.test.ts):
 * cached JSON assembled from literal fragments (so numbers past 2^53 and 17-digit doubles reach
 * Redis exactly as the named writer printed them), one-field mutations of a writer's value, and
 * the outcome of a key line as a comparable string.
 */
import type { KeyLine } from './audit-cli.js';
import { label } from './audit-cli.js';

/** A cached JSON object as [field, JSON text of its value] pairs, in the writer's key order. */
export type JsonFragments = readonly (readonly [field: string, json: string])[];

/** The JSON text of `fragments`, byte for byte what the writer stored. */
export function jsonText(fragments: JsonFragments): string {
  return `{${fragments.map(([field, json]) => `${JSON.stringify(field)}:${json}`).join(',')}}`;
}

/** `fragments` with `field`'s value replaced (the field must exist: a typo must not pass silently). */
export function withFragment(fragments: JsonFragments, field: string, json: string): JsonFragments {
  if (!fragments.some(([f]) => f === field)) throw new Error(`no field ${field} in the writer's value`);
  return fragments.map(([f, v]) => [f, f === field ? json : v] as const);
}

/** `hash` with `field` replaced (the field must exist). */
export function withHashField<T extends Record<string, string | Buffer>>(hash: T, field: string, value: string | Buffer): T {
  if (!Object.hasOwn(hash, field)) throw new Error(`no field ${field} in the writer's hash`);
  return { ...hash, [field]: value };
}

/** The top-level field a diff path names (`doc.id` and `roles[1]` name `doc` and `roles`). */
export function topField(path: string): string {
  return /^[^.[]+/.exec(path)?.[0] ?? path;
}

/**
 * A key's outcome for assertions: `match`, or `verdict/reason` with the distinct top-level fields
 * its diff names, e.g. `divergent/no-ttl [ts]`. A match's diff must be empty and is not shown.
 */
export function outcome(line: KeyLine | undefined): string {
  if (line === undefined) return 'missing';
  if (line.verdict === 'match') return line.diff.length === 0 ? 'match' : `match with diff ${JSON.stringify(line.diff)}`;
  const fields = [...new Set(line.diff.map((d) => topField(d.path)))];
  return `${label(line)} [${fields.join(',')}]`;
}

/** What `outcome` should say for a key planted with a difference on exactly `field` and no TTL. */
export function divergentOn(field: string): string {
  return `divergent/no-ttl [${field}]`;
}
