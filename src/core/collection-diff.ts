/**
 * One collection compared with its source rows (SEMANTICS.md step 4): the members of a `rows: many`
 * family (LIST / SET / ZSET elements, or a cached JSON array) or a child query's rows nested in a
 * document. Elements are identified by their `member` column (as multisets: a list may repeat
 * one), else by position; order is checked only where the source has one (`orderBy`), allowing
 * rows tied on every orderBy column, and boundary-tied rows past `limit`, in any order. Diffs name
 * changes, not indexes: `members: +42, -17`, `members[42].total`, `scores[alice]`,
 * `members (order): 42 moved 3 → 0`. Pure.
 */
import { isLosslessNumber } from 'lossless-json';
import type { ColumnType, ColumnTypes } from './column-type.js';
import { equalByType } from './compare-by-type.js';
import { valuesEqual } from './compare.js';
import { toDecimal } from './decimal.js';
import { displayExcerpt } from './display.js';
import { expectedRows, groupAt, type ExpectedRows } from './collection-order.js';
import { diffFields, type DiffRule } from './field-diff.js';
import { MemberIndex, memberName } from './member-identity.js';
import { hasNormalizer, normalizeField } from './normalize.js';
import { isRedactedPath } from './redaction.js';
import type { ManyRows } from './rule.js';
import { toleranceFor, withinTolerance } from './tolerance.js';
import { REDACTED, type FieldDiff } from './verdict.js';

type Row = Readonly<Record<string, unknown>>;

export interface CollectionSpec {
  /** The field the collection is shown under: `members`, or a child's name (`variants`). */
  name: string;
  many: ManyRows;
  /** raw: each element IS the member column's value; document: a decoded document; scored: a ZSET's `{ member, score }`. */
  elements: 'raw' | 'document' | 'scored';
  /** How each element's fields compare: fields/exclude/normalize/redact/tolerance, relative to the element. */
  element: DiffRule;
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

const isDocument = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);

/** Compares `cached` (the elements in Redis order) with `rows` (the key's source rows in orderBy order). */
export function diffCollection(spec: CollectionSpec, cached: readonly unknown[], rows: readonly Row[], columns: ColumnTypes | undefined): CollectionDiff {
  if (cached.length === 0 && rows.length === 0) return { diffs: [], removed: false };
  const result = spec.elements === 'document' && spec.many.member === undefined ? diffByPosition(spec, cached, rows, columns) : diffByMember(spec, cached, rows, columns);
  if (spec.hidden === true && result.diffs.length > 0) return { ...result, diffs: [{ path: spec.name, cache: REDACTED, source: REDACTED }] };
  return result;
}

function columnOf(columns: ColumnTypes | undefined, name: string | undefined): ColumnType | undefined {
  return columns !== undefined && name !== undefined && Object.hasOwn(columns, name) ? columns[name] : undefined;
}

/** The member column: `member`, else (raw elements of a one-column query) the row's only non-key column. */
function memberColumn(spec: CollectionSpec, rows: readonly Row[]): string | undefined {
  if (spec.many.member !== undefined) return spec.many.member;
  const first = rows[0];
  if (first === undefined) return undefined;
  const names = Object.keys(first).filter((name) => spec.element.key?.includes(name) !== true);
  return names.length === 1 ? names[0] : undefined;
}

function diffByMember(spec: CollectionSpec, cached: readonly unknown[], rows: readonly Row[], columns: ColumnTypes | undefined): CollectionDiff {
  const member = memberColumn(spec, rows);
  const type = columnOf(columns, member);
  const zone = spec.element.timeZone;
  const normalized = (value: unknown): unknown => (member !== undefined && hasNormalizer(spec.element, member) ? normalizeField(spec.element, member, value) : value);
  const cachedMember = (element: unknown): unknown => {
    const value = spec.elements === 'scored' && isDocument(element) && Object.hasOwn(element, 'score') ? element.member : element;
    return normalized(isDocument(value) && member !== undefined ? value[member] : value);
  };
  const sourceMember = (row: Row): unknown => normalized(member === undefined ? undefined : row[member]);

  const expected = expectedRows(rows, spec.many.orderBy, spec.many.limit);
  const fixed = new MemberIndex<number>(type, zone);
  const pool = new MemberIndex<number>(type, zone);
  rows.forEach((row, j) => {
    if (j < expected.fixed) fixed.add(sourceMember(row), j);
    else if (j < expected.fixed + expected.pool) pool.add(sourceMember(row), j);
  });
  const pairs: (number | undefined)[] = [];
  const extras: number[] = [];
  let poolTaken = 0;
  cached.forEach((element, i) => {
    const id = cachedMember(element);
    let j = fixed.take(id);
    if (j === undefined && poolTaken < expected.needed) {
      j = pool.take(id);
      if (j !== undefined) poolTaken++;
    }
    pairs.push(j);
    if (j === undefined) extras.push(i);
  });
  const missing = [...fixed.left(), ...pool.left().slice(0, expected.needed - poolTaken)];

  const hideNames = member !== undefined && isRedactedPath(spec.element.redact, member);
  const name = (value: unknown): string => (hideNames ? REDACTED : memberName(value));
  const diffs: FieldDiff[] = [];
  if (missing.length > 0 || extras.length > 0) {
    const changes = [...missing.map((j) => `+${name(sourceMember(rows[j] as Row))}`), ...extras.map((i) => `-${name(cachedMember(cached[i]))}`)];
    diffs.push(membershipDiff(spec.name, cached.length, expected, changes));
  } else if (spec.many.ordered && spec.many.orderBy !== undefined) {
    const moved: string[] = [];
    pairs.forEach((j, i) => {
      if (j !== undefined && expected.groups[j] !== groupAt(expected, i)) moved.push(`${name(cachedMember(cached[i]))} moved ${i} → ${j}`);
    });
    if (moved.length > 0) diffs.push({ path: `${spec.name} (order)`, cache: '(cached order)', source: '(source order)', change: namedChanges(moved) });
  }
  pairs.forEach((j, i) => {
    if (j === undefined) return;
    const element = cached[i];
    const row = rows[j] as Row;
    const prefix = `${spec.name}[${name(sourceMember(row))}]`;
    if (spec.elements === 'scored') {
      const scored = element as { member: unknown; score: string };
      if (isDocument(scored.member)) for (const d of diffFields(spec.element, scored.member, row, columns)) diffs.push(prefixed(prefix, d));
      diffScore(spec, scored.score, row, columns, name(sourceMember(row)), diffs);
    } else if (spec.elements === 'document' && isDocument(element)) {
      for (const d of diffFields(spec.element, element, row, columns)) diffs.push(prefixed(prefix, d));
    }
  });
  return { diffs, removed: extras.length > 0 };
}

/** How many elements and rows there were, for the JSON formats; reporters print `change`. */
function membershipDiff(name: string, cachedCount: number, expected: ExpectedRows, changes: readonly string[]): FieldDiff {
  const rows = expected.fixed + expected.needed;
  return { path: name, cache: `${cachedCount} element${cachedCount === 1 ? '' : 's'}`, source: `${rows} row${rows === 1 ? '' : 's'}`, change: namedChanges(changes) };
}

function prefixed(prefix: string, d: FieldDiff): FieldDiff {
  const path = d.path.startsWith('[') ? `${prefix}${d.path}` : `${prefix}.${d.path}`;
  return { ...d, path: displayExcerpt(path) as string };
}

const NUMERIC_SCORES = new Set(['integer', 'decimal', 'float8', 'float4', 'bool-int', 'other']);
const REDIS_SCORES: Readonly<Record<string, number>> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };

/** A score as the double Redis holds (`inf`, `-inf` included), or undefined when not a number. */
function scoreNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'bigint') return Number(value);
  if (isLosslessNumber(value)) return Number(value.value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (Object.hasOwn(REDIS_SCORES, text)) return REDIS_SCORES[text];
  return toDecimal(text) === undefined ? undefined : Number(text);
}

/**
 * A ZSET score against the score column: numbers as the doubles Redis stores (a numeric(10,2)
 * 10.10 is the score 10.1), within the `tolerance` of the score column or `*`; a timestamp
 * column by its instant (scores as epoch seconds or milliseconds).
 */
function diffScore(spec: CollectionSpec, score: string, row: Row, columns: ColumnTypes | undefined, member: string, out: FieldDiff[]): void {
  const column = spec.many.score;
  if (column === undefined) return;
  const source = row[column];
  const type = columnOf(columns, column);
  let equal: boolean;
  if (type === undefined || NUMERIC_SCORES.has(type.kind)) {
    const c = scoreNumber(score);
    const s = scoreNumber(source);
    equal = c !== undefined && s !== undefined && c === s;
  } else {
    equal = equalByType(type, score, source, spec.element.timeZone);
  }
  const tolerance = toleranceFor(spec.element.tolerance, column);
  if (equal || (tolerance !== undefined && withinTolerance(tolerance, score, source))) return;
  const hidden = isRedactedPath(spec.element.redact, column);
  out.push({ path: displayExcerpt(`scores[${member}]`) as string, cache: hidden ? REDACTED : displayExcerpt(score), source: hidden ? REDACTED : displayExcerpt(source) });
}

/** Most candidate rows one cached element is compared with when looking for its equal (a tie group can be large). */
const MAX_SCAN = 256;

/**
 * Documents without a member: a cached element pairs with an equal row of its tie group (any
 * row, for an unordered collection); left-over elements of an ordered collection pair with the
 * left-over rows of their group in order and show their field differences as `members[3].total`.
 */
function diffByPosition(spec: CollectionSpec, cached: readonly unknown[], rows: readonly Row[], columns: ColumnTypes | undefined): CollectionDiff {
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
  const equal = (element: unknown, row: Row): boolean => (isDocument(element) ? diffFields(spec.element, element, row, columns).length === 0 : valuesEqual(element, row));

  const pairs: (number | undefined)[] = cached.map(() => undefined);
  cached.forEach((element, i) => {
    if (spec.many.ordered && groupAt(expected, i) === undefined) return;
    if (i < end && available(i) && inGroup(i, i) && equal(element, rows[i] as Row)) {
      pairs[i] = take(i);
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
  if (spec.many.ordered) {
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
    diffs.unshift(membershipDiff(spec.name, cached.length, expected, [...missing.map((j) => `+[${j}]`), ...extras.map((i) => `-[${i}]`)]));
  }
  return { diffs, removed };
}
