/**
 * Document elements without a `member`: a cached element pairs with an equal row of its tie group
 * (any row, for an unordered collection or one without orderBy); left-over elements of an
 * ordered collection pair with the left-over rows of their group in order and show their field
 * differences as `members[3].total`. Equal rows are found through a bucket of their compared
 * fields' values (member-identity.ts), so a large collection cached in another order than the
 * source returns it is still matched in linear time.
 */
import type { ColumnTypes } from './column-type.js';
import { isDocument, membershipDiff, namedChanges, prefixed, type CollectionDiff, type CollectionSpec, type Row } from './collection-entries.js';
import { expectedRows, groupAt } from './collection-order.js';
import { valuesEqual } from './compare.js';
import { diffFields } from './field-diff.js';
import { memberBucket } from './member-identity.js';
import { hasNormalizer, normalizeField } from './normalize.js';
import { displayValue } from './display.js';
import { isRedactedPath } from './redaction.js';
import { REDACTED, type FieldDiff } from './verdict.js';

/** Candidates compared beyond the element's bucket, at most (a bucket misses only exotic forms). */
const MAX_SCAN = 256;

export function diffByPosition(spec: CollectionSpec, cached: readonly unknown[], rows: readonly Row[], columns: ColumnTypes | undefined): CollectionDiff {
  const expected = expectedRows(rows, spec.many.orderBy, spec.many.limit);
  const end = expected.fixed + expected.pool;
  const used = new Set<number>();
  let poolUsed = 0;
  const available = (j: number): boolean => !used.has(j) && (j < expected.fixed || (j < end && poolUsed < expected.needed));
  const take = (j: number): number => {
    used.add(j);
    if (j >= expected.fixed) poolUsed++;
    return j;
  };
  const inGroup = (i: number, j: number): boolean => !spec.many.ordered || expected.groups[j] === groupAt(expected, i);
  // Elements pair with rows exactly first: a `tolerance` (`*: 2`) would otherwise let a shifted,
  // stale list pass (cached ids 42, 41, 40 against 43, 42, 41 are each "within 2" of a row).
  // Only elements left without an exact row pair within the tolerance (a lagging counter).
  const exactRule = spec.element.tolerance === undefined ? spec.element : { ...spec.element, tolerance: undefined };
  let tolerant = false;
  const equal = (element: unknown, row: Row): boolean =>
    isDocument(element) ? diffFields(tolerant ? spec.element : exactRule, element, row, columns).length === 0 : valuesEqual(element, row);
  const bucketOf = documentBucket(spec, rows, columns);
  const buckets = new Map<string, number[]>();
  for (let j = 0; j < end; j++) {
    const key = bucketOf(rows[j] as Row);
    const list = buckets.get(key);
    if (list === undefined) buckets.set(key, [j]);
    else list.push(j);
  }
  const matches = (i: number, j: number): boolean => available(j) && inGroup(i, j) && equal(cached[i], rows[j] as Row);

  const pairs: (number | undefined)[] = cached.map(() => undefined);
  cached.forEach((element, i) => {
    if (spec.many.ordered && groupAt(expected, i) === undefined) return;
    if (i < end && matches(i, i)) {
      pairs[i] = take(i);
      return;
    }
    const bucket = isDocument(element) ? buckets.get(bucketOf(element)) : undefined;
    const found = bucket?.find((j) => matches(i, j));
    if (found !== undefined) {
      pairs[i] = take(found);
      return;
    }
    let scanned = 0;
    for (let j = 0; j < end && scanned < MAX_SCAN; j++) {
      if (!available(j) || !inGroup(i, j)) continue;
      scanned++;
      if (equal(element, rows[j] as Row)) {
        pairs[i] = take(j);
        return;
      }
    }
  });
  const diffs: FieldDiff[] = [];
  let removed = false;
  const moved: string[] = [];
  if (spec.many.ordered) {
    // An element equal to a row of another tie group is in the wrong place, not changed.
    cached.forEach((element, i) => {
      if (pairs[i] !== undefined || !isDocument(element)) return;
      const bucket = buckets.get(bucketOf(element)) ?? [];
      const j = bucket.find((candidate) => available(candidate) && equal(element, rows[candidate] as Row));
      if (j === undefined) return;
      pairs[i] = take(j);
      moved.push(`${elementName(spec, element, i)} moved ${i} → ${j}`);
    });
  }
  if (spec.element.tolerance !== undefined) {
    tolerant = true;
    cached.forEach((element, i) => {
      if (pairs[i] !== undefined || (spec.many.ordered && groupAt(expected, i) === undefined)) return;
      for (let j = 0, scanned = 0; j < end && scanned < MAX_SCAN; j++) {
        if (!available(j) || !inGroup(i, j)) continue;
        scanned++;
        if (equal(element, rows[j] as Row)) {
          pairs[i] = take(j);
          return;
        }
      }
    });
  }
  if (spec.many.ordered) {
    // Moves are told only when nothing was added or removed: a row inserted at the front shifts
    // every later one, and that is the insertion, not a reordering (as by member, collection-diff.ts).
    const membershipChanges = cached.some((_, i) => pairs[i] === undefined) || rows.slice(0, end).some((_, j) => available(j));
    if (moved.length > 0 && !membershipChanges) diffs.push({ path: `${spec.name} (order)`, cache: '(cached order)', source: '(source order)', change: namedChanges(moved) });
    cached.forEach((element, i) => {
      if (pairs[i] !== undefined || !isDocument(element)) return;
      for (let j = 0; j < end; j++) {
        if (!available(j) || !inGroup(i, j)) continue;
        pairs[i] = take(j);
        // A changed element, or a row removed and the rest shifted: which one, nothing tells.
        removed = true;
        for (const d of diffFields(spec.element, element, rows[j] as Row, columns)) diffs.push(prefixed(`${spec.name}[${i}]`, d));
        return;
      }
    });
  }
  const extras = cached.flatMap((_, i) => (pairs[i] === undefined ? [i] : []));
  const missing: number[] = [];
  for (let j = 0; j < end; j++) if (available(j)) missing.push(take(j));
  if (extras.length > 0 || missing.length > 0) {
    removed ||= extras.length > 0;
    diffs.unshift(membershipDiff(spec.name, cached.length, expected, [...missing.map((j) => `+${elementName(spec, rows[j], j)}`), ...extras.map((i) => `-${elementName(spec, cached[i], i)}`)]));
  }
  return { diffs, removed };
}

/**
 * The bucket of a document: its compared fields' values (normalized as compared), each by its
 * column's bucket, so the forms one value takes on either side fall in one bucket.
 */
function documentBucket(spec: CollectionSpec, rows: readonly Row[], columns: ColumnTypes | undefined): (doc: Row) => string {
  const rule = spec.element;
  const first = rows[0];
  const fields = (rule.fields ?? (first === undefined ? [] : Object.keys(first))).filter((f) => rule.exclude?.includes(f) !== true && rule.key?.includes(f) !== true);
  return (doc) =>
    JSON.stringify(
      fields.map((field) => {
        const raw = Object.hasOwn(doc, field) ? doc[field] : undefined;
        const value = hasNormalizer(rule, field) ? normalizeField(rule, field, raw) : raw;
        return memberBucket(columns !== undefined && Object.hasOwn(columns, field) ? columns[field] : undefined, value, rule.timeZone);
      }),
    );
}

/** Longest summary of an element a change text shows. */
const MAX_SUMMARY_CHARS = 60;

/**
 * An element with no member, as a change text names it: its position and its compared fields
 * (`[0] {"name":"Cup C"}`), key columns left out and redacted fields masked, cut when long; so
 * `+[0]` and `-[1]` say which documents they are.
 */
function elementName(spec: CollectionSpec, element: unknown, index: number): string {
  if (!isDocument(element)) return `[${index}]`;
  const rule = spec.element;
  const fields = (rule.fields ?? Object.keys(element)).filter((f) => rule.exclude?.includes(f) !== true && rule.key?.includes(f) !== true);
  const summary: Record<string, unknown> = {};
  for (const field of fields) {
    if (!Object.hasOwn(element, field)) continue;
    summary[field] = isRedactedPath(rule.redact, field) ? REDACTED : displayValue(element[field]);
  }
  const text = JSON.stringify(summary);
  return `[${index}] ${text.length <= MAX_SUMMARY_CHARS ? text : `${text.slice(0, MAX_SUMMARY_CHARS - 1)}…`}`;
}
