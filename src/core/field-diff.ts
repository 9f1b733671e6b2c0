/**
 * Field-level differences between a decoded document (a cache payload, or one element of a
 * collection) and a source row, as the reports show them. Runs once per judged key (a million
 * times in the benchmarks), so the equal case does no allocation beyond what a configured
 * normalizer needs. diff.ts puts documents and collections together.
 */
import { isLosslessNumber } from 'lossless-json';
import type { ColumnTypes } from './column-type.js';
import { equalByType } from './compare-by-type.js';
import { valuesEqual } from './compare.js';
import { displayExcerpt } from './display.js';
import { hasNormalizer, normalizeField } from './normalize.js';
import { childPath, isRedactedPath, mayDescend, redactValue } from './redaction.js';
import type { FamilyRule } from './rule.js';
import { toleranceApplies, toleranceFor, withinTolerance } from './tolerance.js';
import { REDACTED, type FieldDiff } from './verdict.js';

export type DiffRule = Pick<FamilyRule, 'fields' | 'exclude' | 'normalize' | 'redact'> & Partial<Pick<FamilyRule, 'key' | 'timeZone' | 'normalizePaths' | 'tolerance'>>;
type Payload = Readonly<Record<string, unknown>>;

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The compared fields are `rule.fields` when given, else every top-level key of either side except
 * `rule.exclude`. Normalizers (a field's list, then paths inside its value) apply to both sides
 * first. Values in the result are normalized, redacted (redaction.ts) and then cut to a bounded
 * excerpt (displayExcerpt), so a finding never keeps a large value nor anything of a redacted one.
 * An empty array means the payloads are equal.
 */
export function diffFields(rule: DiffRule, cache: Payload, source: Payload, columns?: ColumnTypes, skip?: ReadonlySet<string>): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  if (rule.fields !== undefined) {
    for (const field of rule.fields) if (skip?.has(field) !== true) diffField(rule, field, cache, source, columns, diffs);
    return diffs;
  }
  const exclude = rule.exclude;
  for (const field in cache) {
    if (!hasOwn.call(cache, field) || exclude?.includes(field) === true || skip?.has(field) === true) continue;
    diffField(rule, field, cache, source, columns, diffs);
  }
  for (const field in source) {
    if (!hasOwn.call(source, field) || hasOwn.call(cache, field) || exclude?.includes(field) === true || skip?.has(field) === true) continue;
    diffField(rule, field, cache, source, columns, diffs);
  }
  return diffs;
}

function diffField(rule: DiffRule, field: string, cache: Payload, source: Payload, columns: ColumnTypes | undefined, out: FieldDiff[]): void {
  // A key column the cached value does not hold is no difference: the lookup by key proves it
  // (hashes and JSON documents rarely repeat their own id).
  if (rule.key?.includes(field) === true && !hasOwn.call(cache, field)) return;
  // hasOwn, not `in` or plain indexing: a field named `constructor` must not read Object.prototype.
  let c = hasOwn.call(cache, field) ? cache[field] : undefined;
  let s = hasOwn.call(source, field) ? source[field] : undefined;
  // The field's own list (`email: [trim, lowercase]`) decides how it compares; paths inside its
  // value (`meta.at`, `items[].at`) only rewrite those parts, the rest compares as before.
  const spec = hasOwn.call(rule.normalize, field) ? rule.normalize[field] : undefined;
  if (hasNormalizer(rule, field)) {
    c = normalizeField(rule, field, c);
    s = normalizeField(rule, field, s);
  }
  // A normalizer declared in the rules wins; otherwise the source column's type decides.
  const type = columns !== undefined && hasOwn.call(columns, field) ? columns[field] : undefined;
  const equal = spec !== undefined ? valuesEqual(c, s) : equalByType(type, c, s, rule.timeZone);
  if (equal) return;
  // A counter that may lag (`tolerance:`): numbers within it are equal, on both sides' forms.
  const tolerance = toleranceFor(rule.tolerance, field);
  if (tolerance !== undefined && toleranceApplies(rule.tolerance, field, type) && withinTolerance(tolerance, c, s)) return;
  addDiffs(field, c, s, rule.redact, out);
}

type Container = 'array' | 'object' | undefined;

function containerKind(value: unknown): Container {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date || value instanceof Uint8Array || isLosslessNumber(value)) return undefined;
  return 'object';
}

/**
 * Descends into objects and arrays present on both sides so that a diff names the leaf that
 * changed (`address.city`, `tags[1]`). Stops at a redacted path: nothing under it is shown, not
 * even which sub-field differs, since key names of a redacted map may be secret themselves. Does
 * not descend into a container of another shape than a redacted path under it expects (an array
 * where `address.street` expects an object): its elements could be the secret in another form.
 */
export function addDiffs(path: string, c: unknown, s: unknown, redact: readonly string[], out: FieldDiff[]): void {
  if (isRedactedPath(redact, path)) {
    out.push({ path: displayExcerpt(path) as string, cache: REDACTED, source: REDACTED });
    return;
  }
  const kind = containerKind(c);
  if (kind !== undefined && kind === containerKind(s) && mayDescend(redact, path, kind)) {
    const before = out.length;
    if (kind === 'array') {
      const a = c as readonly unknown[];
      const b = s as readonly unknown[];
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (!valuesEqual(a[i], b[i])) addDiffs(`${path}[${i}]`, a[i], b[i], redact, out);
      }
    } else {
      const a = c as Payload;
      const b = s as Payload;
      for (const k in a) {
        if (!hasOwn.call(a, k)) continue;
        const bv = hasOwn.call(b, k) ? b[k] : undefined;
        if (!valuesEqual(a[k], bv)) addDiffs(childPath(path, k), a[k], bv, redact, out);
      }
      for (const k in b) {
        if (!hasOwn.call(b, k) || hasOwn.call(a, k)) continue;
        if (!valuesEqual(undefined, b[k])) addDiffs(childPath(path, k), undefined, b[k], redact, out);
      }
    }
    // Unequal containers whose elements all match (e.g. [1, null] vs [1]) still differ as a whole.
    if (out.length > before) return;
  }
  // A member name can be as long as a value (a hostile JSON key): the path is cut like one.
  out.push({ path: displayExcerpt(path) as string, cache: displayExcerpt(redactValue(redact, path, c)), source: displayExcerpt(redactValue(redact, path, s)) });
}
