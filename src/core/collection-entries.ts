/**
 * The shapes shared by the two ways a collection is compared (collection-diff.ts by member,
 * positional-diff.ts by position), and the diff entries both write.
 */
import type { ExpectedRows } from './collection-order.js';
import { displayExcerpt } from './display.js';
import type { DiffRule } from './field-diff.js';
import type { ManyRows } from './rule.js';
import type { FieldDiff } from './verdict.js';

export type Row = Readonly<Record<string, unknown>>;

export interface CollectionSpec {
  /** The field the collection is shown under: `members`, or a child's name (`variants`). */
  name: string;
  many: ManyRows;
  /** raw: each element IS the member column's value; document: a decoded document; scored: a ZSET's `{ member, score }`. */
  elements: 'raw' | 'document' | 'scored';
  /** How each element's fields compare: fields/exclude/normalize/redact/tolerance, relative to the element. */
  element: DiffRule;
  /**
   * The cache holds each member once (a Redis SET or ZSET): source rows repeating a member (a
   * join, a non-unique column) are one element, not a missing one.
   */
  distinct?: boolean;
  /** The whole collection is redacted: a difference is reported without anything of it. */
  hidden?: boolean;
}

export interface CollectionDiff {
  diffs: FieldDiff[];
  /**
   * A cached element is not (or may not be) among the source rows any more: a row deleted or fallen
   * out of the top `limit`, whose time of leaving no column records (the change time is unknown).
   */
  removed: boolean;
}

/** At most this many members a change text names. */
export const MAX_NAMED = 10;

/** `+42, +43, -17`, bounded: at most MAX_NAMED names, then `… and N more`. */
export function namedChanges(entries: readonly string[]): string {
  const shown = entries.slice(0, MAX_NAMED).join(', ');
  return entries.length > MAX_NAMED ? `${shown}, … and ${entries.length - MAX_NAMED} more` : shown;
}

export const isDocument = (value: unknown): value is Row =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);

/** How many elements and rows there were, for the JSON formats; reporters print `change`. */
export function membershipDiff(name: string, cachedCount: number, expected: ExpectedRows, changes: readonly string[]): FieldDiff {
  const rows = expected.fixed + expected.needed;
  return { path: name, cache: `${cachedCount} element${cachedCount === 1 ? '' : 's'}`, source: `${rows} row${rows === 1 ? '' : 's'}`, change: namedChanges(changes) };
}

/** An element's field diff under the element's name: `members[42].total`, `variants[3].price`. */
export function prefixed(prefix: string, d: FieldDiff): FieldDiff {
  const path = d.path.startsWith('[') ? `${prefix}${d.path}` : `${prefix}.${d.path}`;
  return { ...d, path: displayExcerpt(path) as string };
}
