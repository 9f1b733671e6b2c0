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
import { toDecimal } from './decimal.js';
import { displayExcerpt } from './display.js';
import { isDocument, membershipDiff, namedChanges, prefixed, type CollectionDiff, type CollectionSpec, type Row } from './collection-entries.js';
import { expectedRows } from './collection-order.js';
import { diffByPosition } from './positional-diff.js';
import { diffFields } from './field-diff.js';
import { MemberIndex, memberName } from './member-identity.js';
import { hasNormalizer, normalizeField } from './normalize.js';
import { isRedactedPath } from './redaction.js';
import { toleranceFor, withinTolerance } from './tolerance.js';
import { REDACTED, type FieldDiff } from './verdict.js';

export type { CollectionDiff, CollectionSpec } from './collection-entries.js';
export { MAX_NAMED } from './collection-entries.js';

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
    const id = sourceMember(row);
    if (spec.distinct === true && (fixed.has(id) || pool.has(id))) return;
    if (j < expected.fixed) fixed.add(id, j);
    else if (j < expected.fixed + expected.pool) pool.add(id, j);
  });
  // Every row loaded, to tell an extra element whose row exists (cached twice, or one tie too many
  // at the limit) from one whose row is gone or past the limit: only the latter hides a change time.
  const loaded = new MemberIndex<number>(type, zone);
  rows.forEach((row, j) => loaded.add(sourceMember(row), j));
  const paired = new MemberIndex<number>(type, zone);
  const pairs: (number | undefined)[] = [];
  const extras: { index: number; note: string }[] = [];
  let poolTaken = 0;
  cached.forEach((element, i) => {
    const id = cachedMember(element);
    let j = fixed.take(id);
    if (j === undefined && poolTaken < expected.needed) {
      j = pool.take(id);
      if (j !== undefined) poolTaken++;
    }
    pairs.push(j);
    if (j !== undefined) paired.add(id, i);
    else extras.push({ index: i, note: !loaded.has(id) ? '' : paired.has(id) ? ' (cached twice)' : ' (one tie too many at the limit)' });
  });
  const missing = [...fixed.left(), ...pool.left().slice(0, expected.needed - poolTaken)];

  const hideNames = member !== undefined && isRedactedPath(spec.element.redact, member);
  const name = (value: unknown): string => (hideNames ? REDACTED : memberName(value));
  const diffs: FieldDiff[] = [];
  if (missing.length > 0 || extras.length > 0) {
    const changes = [...missing.map((j) => `+${name(sourceMember(rows[j] as Row))}`), ...extras.map(({ index, note }) => `-${name(cachedMember(cached[index]))}${note}`)];
    diffs.push(membershipDiff(spec.name, cached.length, expected, changes));
  } else if (spec.many.ordered && spec.many.orderBy !== undefined) {
    const groups = pairs.map((j) => (j === undefined ? 0 : (expected.groups[j] as number)));
    const moved = outOfOrder(groups).map((i) => `${name(cachedMember(cached[i]))} moved ${i} → ${pairs[i] as number}`);
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
    } else if (spec.elements === 'document') {
      // `[1, 2]` (bare ids) stands for the documents only when nothing but the member is compared;
      // where `fields` names more, it holds none of them.
      if (isDocument(element)) for (const d of diffFields(spec.element, element, row, columns)) diffs.push(prefixed(prefix, d));
      else if (spec.element.fields?.some((field) => field !== member) === true) diffs.push({ path: displayExcerpt(prefix) as string, cache: hideNames ? REDACTED : displayExcerpt(element), source: '(a document)' });
    }
  });
  return { diffs, removed: extras.some(({ note }) => note === '') };
}

const NUMERIC_SCORES = new Set(['integer', 'decimal', 'float8', 'float4', 'bool-int', 'other']);
const REDIS_SCORES: Readonly<Record<string, number>> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };

/** A score as the double Redis holds (`inf`, `-inf` included), or undefined when not a number. */
export function scoreNumber(value: unknown): number | undefined {
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
    // A real (float4) score widened to a double by a Go float32 or Java float writer
    // (0.10000000149011612 for 0.1) is the same real.
    const narrow = type?.kind === 'float4' ? Math.fround : (x: number): number => x;
    equal = c !== undefined && s !== undefined && narrow(c) === narrow(s);
  } else {
    equal = equalByType(type, score, source, spec.element.timeZone);
  }
  const tolerance = toleranceFor(spec.element.tolerance, column);
  if (equal || (tolerance !== undefined && withinTolerance(tolerance, score, source))) return;
  const hidden = isRedactedPath(spec.element.redact, column);
  out.push({ path: displayExcerpt(`scores[${member}]`) as string, cache: hidden ? REDACTED : displayExcerpt(shownScore(score)), source: hidden ? REDACTED : displayExcerpt(source) });
}

/**
 * The cached positions to move to restore the source order: those outside a longest
 * non-decreasing run of tie groups (one element moved to the front is one move, not every
 * element shifted). Empty when the order is right: with the same members, groups in
 * non-decreasing order are exactly the source order up to ties.
 */
export function outOfOrder(groups: readonly number[]): number[] {
  // Patience sorting: tails[k] is the position ending the best run of length k + 1.
  const tails: number[] = [];
  const previous: number[] = groups.map(() => -1);
  groups.forEach((g, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((groups[tails[mid] as number] as number) <= g) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const kept = new Set<number>();
  for (let i = tails.length === 0 ? -1 : (tails[tails.length - 1] as number); i !== -1; i = previous[i] as number) kept.add(i);
  return groups.flatMap((_, i) => (kept.has(i) ? [] : [i]));
}

/** A score as a number where Redis spelled a finite one (`"3"` shows as 3, beside the source's 4.5); `inf` stays text. */
function shownScore(score: string): unknown {
  const n = scoreNumber(score);
  return n !== undefined && Number.isFinite(n) ? n : score;
}
