/**
 * A decoded cache payload against its source row, as the reports show the differences: the
 * fields of a document (field-diff.ts), the members of a `rows: many` family, and the child rows
 * nested in a document built from several tables (collection-diff.ts).
 */
import type { ColumnTypes } from './column-type.js';
import { MEMBERS_FIELD } from './codec-collection.js';
import { diffCollection, type CollectionSpec } from './collection-diff.js';
import { diffFields, type DiffRule } from './field-diff.js';
import type { ChildQuery, FamilyRule, NormalizerSpec, PathNormalizer } from './rule.js';
import type { FieldDiff } from './verdict.js';

type Payload = Readonly<Record<string, unknown>>;
type Row = Readonly<Record<string, unknown>>;
export type PayloadRule = DiffRule & Partial<Pick<FamilyRule, 'type' | 'codec' | 'many' | 'children'>>;

export interface PayloadDiff {
  diff: FieldDiff[];
  /**
   * Whether the rows' `updatedAt` can date this difference (SEMANTICS.md step 7): not when a cached
   * member left the source (its deletion time is recorded nowhere), nor when a child differs (the
   * parent's `updatedAt` does not move with its children's rows).
   */
  changeTimeKnown: boolean;
}

/** The differences only (an empty array: equal). */
export function diffPayloads(rule: PayloadRule, cache: Record<string, unknown>, source: Payload, columns?: ColumnTypes): FieldDiff[] {
  return comparePayloads(rule, cache, source, columns).diff;
}

export function comparePayloads(rule: PayloadRule, cache: Payload, source: Payload, columns?: ColumnTypes): PayloadDiff {
  if (rule.many !== undefined) {
    const spec = membersSpec(rule as PayloadRule & { many: NonNullable<PayloadRule['many']> });
    const { diffs, removed } = diffCollection(spec, arrayOf(cache[MEMBERS_FIELD]), rowsOf(source[MEMBERS_FIELD]), nestedColumns(columns, MEMBERS_FIELD));
    return { diff: diffs, changeTimeKnown: !removed };
  }
  const children = rule.children ?? [];
  if (children.length === 0) return { diff: diffFields(rule, cache, source, columns), changeTimeKnown: true };
  const skip = new Set(children.map((child) => child.name));
  const diff = diffFields(rule, cache, source, columns, skip);
  let childDiffers = false;
  for (const child of children) {
    if (rule.exclude?.includes(child.name) === true) continue;
    // A cached document lacking the child field holds no child rows.
    const cached = Object.hasOwn(cache, child.name) ? cache[child.name] : undefined;
    const rows = Object.hasOwn(source, child.name) ? source[child.name] : undefined;
    const { diffs } = diffCollection(childSpec(rule, child), cached === null || cached === undefined ? [] : arrayOf(cached), rowsOf(rows), nestedColumns(columns, child.name));
    if (Array.isArray(cached) || cached === null || cached === undefined) diff.push(...diffs);
    else diff.push({ path: child.name, cache: '(not an array)', source: `${rowsOf(rows).length} rows` });
    childDiffers ||= diffs.length > 0 || !(Array.isArray(cached) || cached === null || cached === undefined);
  }
  return { diff, changeTimeKnown: !childDiffers };
}

function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function rowsOf(value: unknown): readonly Row[] {
  return Array.isArray(value) ? (value as Row[]) : [];
}

function nestedColumns(columns: ColumnTypes | undefined, field: string): ColumnTypes | undefined {
  const type = columns !== undefined && Object.hasOwn(columns, field) ? columns[field] : undefined;
  return type?.kind === 'rows' ? type.columns : undefined;
}

/** A `rows: many` family: fields, exclude, normalize and redact apply to each element. */
export function membersSpec(rule: PayloadRule & { many: NonNullable<PayloadRule['many']> }): CollectionSpec {
  const elements = rule.type === 'zset' ? 'scored' : rule.codec === 'raw' ? 'raw' : 'document';
  const redact = elementRedact(rule.redact);
  const hidden = rule.redact.includes(MEMBERS_FIELD) || rule.redact.includes(`${MEMBERS_FIELD}[]`);
  const distinct = rule.type === 'set' || rule.type === 'zset';
  return { name: MEMBERS_FIELD, many: rule.many, elements, element: redact === rule.redact ? rule : { ...rule, redact }, hidden, distinct };
}

/**
 * The redact entries of a `rows: many` family as they apply inside each element: as written
 * (`email`), and written the way a diff path shows them (`members[].email`).
 */
export function elementRedact(redact: readonly string[]): readonly string[] {
  const prefix = `${MEMBERS_FIELD}[].`;
  if (!redact.some((entry) => entry.startsWith(prefix))) return redact;
  return redact.map((entry) => (entry.startsWith(prefix) ? entry.slice(prefix.length) : entry));
}

/**
 * A child's rows compare by the child's fields/exclude; the parent's `normalize` paths and
 * `redact` entries under `name[]` (`variants[].price`) apply inside each element.
 */
export function childSpec(rule: DiffRule, child: ChildQuery): CollectionSpec {
  const prefix = `${child.name}[]`;
  const normalize: Record<string, readonly NormalizerSpec[]> = {};
  const normalizePaths: Record<string, PathNormalizer[]> = {};
  const paths = rule.normalizePaths !== undefined && Object.hasOwn(rule.normalizePaths, child.name) ? rule.normalizePaths[child.name] : undefined;
  for (const p of paths ?? []) {
    const [first, field, ...rest] = p.steps;
    if (first !== '[]' || field === undefined) continue;
    if (rest.length === 0) define(normalize, field, [...(Object.hasOwn(normalize, field) ? (normalize[field] ?? []) : []), ...p.specs]);
    else (Object.hasOwn(normalizePaths, field) ? (normalizePaths[field] ?? []) : define(normalizePaths, field, [])).push({ path: p.path, steps: rest, specs: p.specs });
  }
  const redact = rule.redact.filter((entry) => entry.startsWith(`${prefix}.`)).map((entry) => entry.slice(prefix.length + 1));
  const element: DiffRule = {
    normalize,
    normalizePaths,
    redact,
    key: child.key,
    ...(child.fields === undefined ? {} : { fields: child.fields }),
    ...(child.exclude === undefined ? {} : { exclude: child.exclude }),
    ...(rule.timeZone === undefined ? {} : { timeZone: rule.timeZone }),
    ...(rule.tolerance === undefined ? {} : { tolerance: rule.tolerance }),
  };
  return { name: child.name, many: child, elements: 'document', element, hidden: rule.redact.includes(child.name) || rule.redact.includes(prefix) };
}

function define<T>(record: Record<string, T>, key: string, value: T): T {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}
