/**
 * The named normalizers of a rule's `normalize:` map (ARCHITECTURE.md, "Normalization").
 * Both sides of a field go through the same normalizer before comparison. A value a normalizer
 * cannot handle comes back unchanged, so the diff shows the user what was there instead of the
 * audit failing on one odd row.
 */
import { Buffer } from 'node:buffer';
import { LosslessNumber, isLosslessNumber } from 'lossless-json';
import { decimalKey, formatDecimal, roundDecimal, toDecimal } from './decimal.js';
import { parseJsonText } from './json-text.js';
import type { FamilyRule, NormalizerSpec, PathNormalizer } from './rule.js';
import { epochMsFromDecimal, parseTimestamp } from './timestamp.js';

export function normalizeValue(spec: NormalizerSpec, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (spec.name) {
    case 'lowercase':
      return mapStrings(value, (s) => s.toLowerCase());
    case 'trim':
      return mapStrings(value, (s) => s.trim());
    case 'number':
      return toNumber(value);
    case 'decimal':
      return toFixedDecimal(value, spec.places);
    case 'timestamp':
      return toEpochMs(value) ?? value;
    case 'boolean':
      return toBoolean(value) ?? value;
    case 'sorted':
      return Array.isArray(value) ? sortCanonically(value) : value;
    case 'json':
      return parseIfJsonText(value);
    case 'date':
      return toCalendarDay(value) ?? value;
    case 'empty-as-null':
      return isEmpty(value) ? null : value;
  }
}

/** A field's normalizer list, applied in order: `[trim, lowercase]` trims, then folds case. */
export function normalizeAll(specs: readonly NormalizerSpec[], value: unknown): unknown {
  let out = value;
  for (const spec of specs) out = normalizeValue(spec, out);
  return out;
}

type FieldNormalizers = Pick<FamilyRule, 'normalize' | 'normalizePaths'>;

const hasOwn = Object.prototype.hasOwnProperty;

/** True when the rule normalizes `field`, as a whole or inside; lets the diff skip the rest. */
export function hasNormalizer(rule: FieldNormalizers, field: string): boolean {
  return hasOwn.call(rule.normalize, field) || (rule.normalizePaths !== undefined && hasOwn.call(rule.normalizePaths, field));
}

/**
 * The value of top-level `field` as the rule compares it: the field's list first (so `json` can
 * turn a string into the object a path then reaches into), then each path in rules-file order.
 * The value is never modified in place: what a path changes is copied along the path.
 */
export function normalizeField(rule: FieldNormalizers, field: string, value: unknown): unknown {
  let out = value;
  // hasOwn: a field named `constructor` must not read Object.prototype.
  if (hasOwn.call(rule.normalize, field)) out = normalizeAll(rule.normalize[field] ?? [], out);
  const paths = rule.normalizePaths !== undefined && hasOwn.call(rule.normalizePaths, field) ? rule.normalizePaths[field] : undefined;
  for (const p of paths ?? []) out = normalizeAtPath(p, out);
  return out;
}

/**
 * Applies a path normalizer to a field's value. Where the value does not have the path (no such
 * key, not an object, not an array at `[]`), it is returned unchanged: that is data, not a rules error.
 */
export function normalizeAtPath(p: Pick<PathNormalizer, 'steps' | 'specs'>, value: unknown): unknown {
  return atPath(p.steps, 0, p.specs, value);
}

function atPath(steps: readonly string[], i: number, specs: readonly NormalizerSpec[], value: unknown): unknown {
  const step = steps[i];
  if (step === undefined) return normalizeAll(specs, value);
  if (step === '[]') {
    if (!Array.isArray(value)) return value;
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, k) => {
      const next = atPath(steps, i + 1, specs, item);
      if (next === item) return;
      copy ??= [...(value as unknown[])];
      copy[k] = next;
    });
    return copy ?? value;
  }
  if (!isPlainRecord(value) || !hasOwn.call(value, step)) return value;
  const item = value[step];
  const next = atPath(steps, i + 1, specs, item);
  // A computed key defines an own property, even for `__proto__`.
  return next === item ? value : { ...value, [step]: next };
}

/** An object a path can step into: not an array, Date, Buffer or exact number. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array) && !isLosslessNumber(value)
  );
}

/** Strings, and strings inside arrays (a list of tags or emails), are mapped; the rest is kept. */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn));
  return value;
}

/**
 * A plain number when the double holds the value exactly, else a LosslessNumber with the exact
 * decimal text: the `number` normalizer must not reintroduce the rounding the decoder avoided.
 */
function toNumber(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const d = toDecimal(value, true);
  if (d === undefined) return value;
  const plain = formatDecimal(d);
  if (plain === undefined) return value;
  const n = Number(plain);
  const exact = toDecimal(n);
  return exact !== undefined && exact.digits === d.digits && exact.exp === d.exp ? n : new LosslessNumber(plain);
}

function toFixedDecimal(value: unknown, places: number): unknown {
  const d = toDecimal(value, true);
  return d === undefined ? value : (roundDecimal(d, places) ?? value);
}

/**
 * Epoch ms of a Date, an ISO/SQL string, or an epoch number (seconds or milliseconds by
 * magnitude: see EPOCH_SECONDS_BELOW). Exported for classify.ts's updatedAt handling.
 */
export function toEpochMs(value: unknown): number | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'string') {
    const parsed = parseTimestamp(value.trim());
    if (parsed !== undefined) return parsed;
  }
  const d = toDecimal(value, true);
  return d === undefined ? undefined : epochMsFromDecimal(d);
}

/**
 * The calendar day (`YYYY-MM-DD`) of a date or timestamp: a day string is kept, anything else
 * toEpochMs reads (ISO/SQL strings, Dates, epoch seconds or ms) gives the day in UTC, so
 * `2024-02-29T23:30:00-02:00` is 2024-03-01. Undefined when the value is neither.
 */
function toCalendarDay(value: unknown): string | undefined {
  const ms = toEpochMs(value);
  if (ms === undefined) return undefined;
  const iso = new Date(ms).toISOString();
  // Years outside 0000-9999 print as ±YYYYYY-MM-DD; the day is everything before the T.
  return iso.slice(0, iso.indexOf('T'));
}

/**
 * `empty-as-null`: an empty string, an empty array or an object without keys stands for NULL, as
 * caches often write them. A string of spaces is not empty: write `[trim, empty-as-null]`.
 */
function isEmpty(value: unknown): boolean {
  if (value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainRecord(value) && Object.keys(value).length === 0;
}

const TRUE_WORDS = new Set(['true', 't', '1', 'yes']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no']);

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    return value == 1 ? true : value == 0 ? false : undefined;
  }
  if (isLosslessNumber(value)) return toBoolean(value.value);
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  }
  return undefined;
}

function parseIfJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const parsed = parseJsonText(value);
  return parsed.ok ? parsed.value : value;
}

/**
 * The sort key of `sorted`: equal for values compare.ts holds equal in the usual cases (`10`,
 * `'10'` and `10.0`; a Date and its ISO string), so both sides line up element by element.
 */
export function canonicalKey(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    const d = toDecimal(value);
    if (d !== undefined) return decimalKey(d);
    const t = parseTimestamp(value);
    return t === undefined ? value : new Date(t).toISOString();
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return canonicalKey(value.toString('utf8'));
  const d = toDecimal(value);
  if (d !== undefined) return decimalKey(d);
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined) // a missing field equals null
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalKey(v)}`);
    return `{${entries.join(',')}}`;
  }
  return String(value);
}

function sortCanonically(items: readonly unknown[]): unknown[] {
  const keyed = items.map((item) => ({ item, key: canonicalKey(item) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.item);
}
