/**
 * Systematic differences: when most of a family's differing keys differ on the same field in the
 * same way (an ISO timestamp cached for a date, epoch seconds for milliseconds, another case or
 * precision, a number for a string), the cause is a rules or normalization problem, not stale
 * data, whatever reason each key's verdict carries. Verdicts are not changed (SEMANTICS.md); the
 * run says so once per family, first in every report, and `explain` gives the same hint for a key.
 *
 * Works from what a finding carries: each FieldDiff's values after normalization and
 * displayValue (strings, numbers, booleans, null, plain arrays and objects; exact numbers as
 * decimal text). A redacted field shows REDACTED on both sides: it is never recognised, so no
 * message can reveal anything about its values. Messages name forms ("ISO timestamp", "date"),
 * never values.
 */
import { parseTimestamp } from './timestamp.js';
import { REDACTED, type Finding } from './verdict.js';
import type { RunWarning } from './warning.js';

export type TransformationKind =
  | 'date-vs-timestamp'
  | 'epoch-vs-timestamp'
  | 'seconds-vs-milliseconds'
  | 'timestamp-format'
  | 'time-zone'
  | 'case'
  | 'whitespace'
  | 'precision'
  | 'scale'
  | 'type'
  | 'empty-vs-null'
  | 'presence';

/** How one field's cache value relates to its source value when both hold the same thing. */
export interface Transformation {
  kind: TransformationKind;
  /** "the same way": the kind and both forms (and a time zone's shift), never a value. */
  signature: string;
  /** e.g. "cache ISO timestamp, source date". */
  summary: string;
  /** What usually fixes it, e.g. "a `lowercase` normalizer, or the writer". */
  remedy: string;
}

// ---------------------------------------------------------------------------------------------
// Recognising one field's transformation

/** Epoch numbers in seconds between 1973 and 2286; in milliseconds from 1973 to 5138. */
const EPOCH_S_MIN = 1e8;
const EPOCH_S_MAX = 1e10;
const EPOCH_MS_MIN = 1e11;
const EPOCH_MS_MAX = 1e14;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const NUMERIC_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_ZONE_SHIFT_MS = 14 * 3_600_000;
/** Precision: numbers equal at the lower precision, and no further apart than this (relative). */
const MAX_PRECISION_GAP = 1e-3;
/** Below this relative gap two numbers are the same double printed differently. */
const FLOAT_NOISE = 1e-12;

const REMEDY = {
  date: 'a `date` normalizer, or comparing the field as the date it is',
  timestamp: 'a `timestamp` normalizer, or one time format in the writer',
  zone: "the source's `timezone`, or one time zone in the writer",
  case: 'a `lowercase` normalizer, or the writer',
  trim: 'a `trim` normalizer, or the writer',
  caseTrim: '`trim` and `lowercase` normalizers, or the writer',
  decimal: 'a `decimal:N` normalizer, or the precision the writer keeps',
  scale: 'the unit the writer stores (or a derived field the rules should not compare)',
  number: 'a `number` normalizer, or the type the writer stores',
  boolean: 'a `boolean` normalizer, or the type the writer stores',
  json: 'a `json` normalizer, or the type the writer stores',
  array: "the column's array type, or the type the writer stores",
  empty: 'an `empty-as-null` normalizer, or the writer',
  presence: 'the field name in the rules (spelling, case), and whether the writer stores this field at all',
} as const;

function transformation(kind: TransformationKind, cache: string, source: string, remedy: string, summary = `cache ${cache}, source ${source}`): Transformation {
  return { kind, signature: `${kind}|${cache}|${source}`, summary, remedy };
}

/**
 * The transformation that turns one side of a field into the other, or undefined when the values
 * simply differ (stale data: 'basic' vs 'pro', 10 vs 12) or cannot be told apart (redacted).
 */
export function recognizeTransformation(cache: unknown, source: unknown): Transformation | undefined {
  if (cache === REDACTED && source === REDACTED) return undefined;
  const cacheNull = cache === null || cache === undefined;
  const sourceNull = source === null || source === undefined;
  if (cacheNull || sourceNull) {
    if (cacheNull && sourceNull) return undefined;
    if (cache === '' || source === '') {
      return cache === '' ? transformation('empty-vs-null', 'empty string', 'null', REMEDY.empty) : transformation('empty-vs-null', 'null', 'empty string', REMEDY.empty);
    }
    return cacheNull
      ? transformation('presence', 'null or missing', 'a value', REMEDY.presence)
      : transformation('presence', 'a value', 'null or missing', REMEDY.presence);
  }
  return timeTransformation(cache, source) ?? typeTransformation(cache, source) ?? textTransformation(cache, source) ?? numberTransformation(cache, source);
}

type TimeForm =
  | { kind: 'date'; day: string }
  | { kind: 'timestamp'; ms: number; day: string; style: string }
  | { kind: 'epoch'; ms: number; unit: 's' | 'ms'; day: string };

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function timeForm(value: unknown): TimeForm | undefined {
  if (typeof value === 'string') {
    if (DATE_ONLY.test(value)) return parseTimestamp(value) === undefined ? undefined : { kind: 'date', day: value };
    if (value.length > 10) {
      const ms = parseTimestamp(value);
      if (ms !== undefined) return { kind: 'timestamp', ms, day: value.slice(0, 10), style: timestampStyle(value) };
    }
  }
  const n = numberOf(value);
  if (n === undefined) return undefined;
  const abs = Math.abs(n.value);
  if (abs >= EPOCH_S_MIN && abs < EPOCH_S_MAX) {
    const ms = Math.round(n.value * 1000);
    return { kind: 'epoch', ms, unit: 's', day: utcDay(ms) };
  }
  if (abs >= EPOCH_MS_MIN && abs < EPOCH_MS_MAX && Number.isInteger(n.value)) return { kind: 'epoch', ms: n.value, unit: 'ms', day: utcDay(n.value) };
  return undefined;
}

/**
 * "ISO timestamp in UTC (Z)", "SQL timestamp without zone", ... Fraction digits are left out:
 * writers such as Python's isoformat() drop the fraction when it is zero, so counting its digits
 * would split one way of writing into several.
 */
function timestampStyle(text: string): string {
  const separator = text.charAt(10) === ' ' ? 'SQL' : 'ISO';
  const rest = text.slice(11);
  const zone = /[Zz]$/.test(rest) ? 'in UTC (Z)' : /[+-]\d{2}(?::?\d{2}){0,2}$/.test(rest) ? 'with offset' : 'without zone';
  return `${separator} timestamp ${zone}`;
}

function hasFraction(text: unknown): boolean {
  return typeof text === 'string' && /\d[.,]\d/.test(text.slice(11));
}

function formName(form: TimeForm): string {
  switch (form.kind) {
    case 'date':
      return 'date';
    case 'timestamp':
      return 'ISO timestamp';
    case 'epoch':
      return form.unit === 's' ? 'epoch seconds' : 'epoch milliseconds';
  }
}

function timeTransformation(cache: unknown, source: unknown): Transformation | undefined {
  const c = timeForm(cache);
  const s = timeForm(source);
  if (c === undefined || s === undefined) return undefined;
  if (c.kind === 'date' || s.kind === 'date') {
    // A date on both sides: two different days (or a date column the same on both).
    if (c.kind === s.kind) return undefined;
    return c.day === s.day ? transformation('date-vs-timestamp', formName(c), formName(s), REMEDY.date) : undefined;
  }
  const gap = c.ms - s.ms;
  const sameSecond = Math.floor(c.ms / 1000) === Math.floor(s.ms / 1000);
  if (c.kind === 'epoch' && s.kind === 'epoch') {
    if (c.unit !== s.unit && sameSecond) return transformation('seconds-vs-milliseconds', formName(c), formName(s), REMEDY.timestamp);
  } else if (c.kind === 'epoch' || s.kind === 'epoch') {
    if (sameSecond) return transformation('epoch-vs-timestamp', formName(c), formName(s), REMEDY.timestamp);
  } else if (gap === 0 || sameSecond) {
    // Same instant in another spelling (offset, separator), or cut to whole seconds on one side.
    const cs = (c as { style: string }).style;
    const ss = (s as { style: string }).style;
    if (cs !== ss) return transformation('timestamp-format', cs, ss, REMEDY.timestamp);
    const cf = hasFraction(cache);
    if (cf === hasFraction(source)) return undefined;
    return transformation('timestamp-format', `${cs} ${cf ? 'with' : 'without'} fraction`, `${ss} ${cf ? 'without' : 'with'} fraction`, REMEDY.timestamp);
  }
  // The same wall-clock time read in another time zone: a whole number of quarter hours apart.
  // Only with a timestamp string on one side (zone-less text is what gets read in the wrong
  // zone); two epoch numbers that far apart are more likely just two different times.
  const textual = c.kind === 'timestamp' || s.kind === 'timestamp';
  if (textual && gap !== 0 && gap % QUARTER_HOUR_MS === 0 && Math.abs(gap) <= MAX_ZONE_SHIFT_MS) {
    const shift = `${Math.abs(gap) / 3_600_000} h`;
    const cacheForm = formName(c);
    const sourceForm = formName(s);
    return {
      kind: 'time-zone',
      signature: `time-zone|${cacheForm}|${sourceForm}|${gap}`,
      summary: `cache ${shift} ${gap > 0 ? 'ahead of' : 'behind'} source (the same time read in another time zone)`,
      remedy: REMEDY.zone,
    };
  }
  return undefined;
}

interface NumberOf {
  value: number;
  /** Digits after the decimal point as written. */
  fraction: number;
  type: 'number' | 'string';
}

function numberOf(value: unknown): NumberOf | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? { value, fraction: fractionDigits(String(value)), type: 'number' } : undefined;
  if (typeof value === 'string' && NUMERIC_TEXT.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? { value: n, fraction: fractionDigits(value), type: 'string' } : undefined;
  }
  return undefined;
}

function fractionDigits(text: string): number {
  const m = /^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return 0;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

const TRUTH_WORDS: Readonly<Record<string, [boolean, string]>> = {
  true: [true, 'string "true"/"false"'],
  false: [false, 'string "true"/"false"'],
  t: [true, 'string "t"/"f"'],
  f: [false, 'string "t"/"f"'],
  yes: [true, 'string "yes"/"no"'],
  no: [false, 'string "yes"/"no"'],
  y: [true, 'string "y"/"n"'],
  n: [false, 'string "y"/"n"'],
  on: [true, 'string "on"/"off"'],
  off: [false, 'string "on"/"off"'],
  '1': [true, 'string "1"/"0"'],
  '0': [false, 'string "1"/"0"'],
};

function truthOf(value: unknown): [boolean, string] | undefined {
  if (typeof value === 'boolean') return [value, 'boolean'];
  if (value === 0 || value === 1) return [value === 1, 'number 0/1'];
  if (typeof value === 'string') return TRUTH_WORDS[value.toLowerCase()];
  return undefined;
}

function typeTransformation(cache: unknown, source: unknown): Transformation | undefined {
  // Booleans: only when one side is a boolean, so that "1" vs 1 is a number's type instead.
  if (typeof cache === 'boolean' || typeof source === 'boolean') {
    const c = truthOf(cache);
    const s = truthOf(source);
    if (c === undefined || s === undefined || c[0] !== s[0] || c[1] === s[1]) return undefined;
    return transformation('type', c[1], s[1], REMEDY.boolean);
  }
  const cn = numberOf(cache);
  const sn = numberOf(source);
  if (cn !== undefined && sn !== undefined && cn.type !== sn.type && cn.value === sn.value && cn.fraction === sn.fraction) {
    return transformation('type', cn.type, sn.type, REMEDY.number);
  }
  // A string holding the JSON (or the PostgreSQL array literal) of a structured value.
  if (typeof cache === 'string' && typeof source === 'object' && source !== null) return structuredAsText(cache, source, 'cache');
  if (typeof source === 'string' && typeof cache === 'object' && cache !== null) return structuredAsText(source, cache, 'source');
  return undefined;
}

function structuredAsText(text: string, value: object, textSide: 'cache' | 'source'): Transformation | undefined {
  const kind = Array.isArray(value) ? 'array' : 'object';
  const pick = (textForm: string, remedy: string) =>
    textSide === 'cache' ? transformation('type', textForm, kind, remedy) : transformation('type', kind, textForm, remedy);
  try {
    if (canonical(JSON.parse(text)) === canonical(value)) return pick('JSON text', REMEDY.json);
  } catch {
    // Not JSON: maybe an array literal.
  }
  if (Array.isArray(value) && /^\{.*\}$/s.test(text)) {
    const items = text.slice(1, -1) === '' ? [] : text.slice(1, -1).split(',').map((item) => item.replace(/^"(.*)"$/s, '$1'));
    if (items.length === value.length && items.every((item, i) => item === String(value[i]))) return pick('PostgreSQL array text', REMEDY.array);
  }
  return undefined;
}

/** JSON with object keys sorted, so that key order never makes two values differ. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The case forms of two strings equal but for case, named by the side that is all one case (what
 * a writer's toLowerCase() produces), so that "lowercased in the cache" is one way whatever case
 * each source value had.
 */
function caseForms(cache: string, source: string): [string, string] {
  if (cache === cache.toLowerCase()) return ['lowercase', 'another case'];
  if (source === source.toLowerCase()) return ['another case', 'lowercase'];
  if (cache === cache.toUpperCase()) return ['uppercase', 'another case'];
  if (source === source.toUpperCase()) return ['another case', 'uppercase'];
  return ['mixed case', 'another mixed case'];
}

function paddingForms(cache: string, source: string): [string, string] {
  const cachePadded = cache !== cache.trim();
  const sourcePadded = source !== source.trim();
  if (cachePadded && !sourcePadded) return ['with surrounding whitespace', 'trimmed'];
  if (sourcePadded && !cachePadded) return ['trimmed', 'with surrounding whitespace'];
  return ['surrounding whitespace', 'other surrounding whitespace'];
}

function textTransformation(cache: unknown, source: unknown): Transformation | undefined {
  if (typeof cache !== 'string' || typeof source !== 'string' || cache === source) return undefined;
  if (cache.trim() === source.trim()) return transformation('whitespace', ...paddingForms(cache, source), REMEDY.trim);
  if (cache.toLowerCase() === source.toLowerCase()) return transformation('case', ...caseForms(cache, source), REMEDY.case);
  const ct = cache.trim();
  const st = source.trim();
  if (ct.toLowerCase() === st.toLowerCase()) {
    const [cc, sc] = caseForms(ct, st);
    const [cp, sp] = paddingForms(cache, source);
    return transformation('case', `${cc} ${cp}`, `${sc} ${sp}`, REMEDY.caseTrim);
  }
  return undefined;
}

function numberTransformation(cache: unknown, source: unknown): Transformation | undefined {
  const c = numberOf(cache);
  const s = numberOf(source);
  if (c === undefined || s === undefined) return undefined;
  // The same double printed with more digits on one side (a 17-digit serializer) is a precision difference.
  if (c.value === s.value && c.fraction === s.fraction) return undefined;
  const gap = Math.abs(c.value - s.value);
  const relative = gap === 0 ? 0 : gap / Math.max(Math.abs(c.value), Math.abs(s.value));
  if (relative <= FLOAT_NOISE || (c.fraction !== s.fraction && relative <= MAX_PRECISION_GAP && gap <= 0.5 * 10 ** -Math.min(c.fraction, s.fraction) * (1 + 1e-9))) {
    const more = c.fraction > s.fraction ? 'cache' : c.fraction < s.fraction ? 'source' : undefined;
    const [cf, sf] = more === 'cache' ? ['more decimal places', 'fewer'] : more === 'source' ? ['fewer decimal places', 'more'] : ['a number', 'the same number rounded differently'];
    return transformation('precision', cf, sf, REMEDY.decimal, more === undefined ? 'cache and source the same number rounded differently' : `cache ${cf}, source ${sf}; equal at the lower precision`);
  }
  // A unit: seconds vs milliseconds (durations), or cents vs whole units.
  for (const factor of [1000, 100]) {
    if (c.value !== 0 && c.value === s.value * factor) return transformation('scale', `${factor} × source`, 'a smaller unit', REMEDY.scale, `cache ${factor} × source (another unit)`);
    if (s.value !== 0 && s.value === c.value * factor) return transformation('scale', 'a smaller unit', `${factor} × cache`, REMEDY.scale, `source ${factor} × cache (another unit)`);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The per-family tally

/**
 * Thresholds for concluding that a family's differences are systematic. All must hold for one
 * (field, transformation) pair:
 * - at least SYSTEMATIC_MIN_KEYS keys show it: fewer is anecdote;
 * - they are at least SYSTEMATIC_MIN_SHARE of the family's differing keys (within-ttl and
 *   divergent keys with a field diff, converged excluded): "most of the differences";
 * - they are at least SYSTEMATIC_MIN_JUDGED_SHARE of the family's judged keys. This keeps a
 *   family with a few stale keys among many matches out, even when each of those few happens to
 *   look like a transformation (a nullable column set since the entry was cached): 2% stale keys
 *   can never trigger. A null-vs-value pair (`presence`) is what ordinary staleness produces
 *   most, so it needs PRESENCE_MIN_JUDGED_SHARE of the judged keys.
 */
export const SYSTEMATIC_MIN_KEYS = 5;
export const SYSTEMATIC_MIN_SHARE = 0.8;
export const SYSTEMATIC_MIN_JUDGED_SHARE = 0.1;
export const PRESENCE_MIN_JUDGED_SHARE = 0.5;
/**
 * Distinct (field, transformation) pairs tracked per family; later new pairs are not counted.
 * Paths are counted with array indices folded (`items[].at`), so only object keys that come from
 * data (a map keyed by ids) can reach this, and a pair that most keys share is seen early.
 */
export const MAX_PAIRS_PER_FAMILY = 256;
/** Warnings per family, most keys first. */
export const MAX_WARNINGS_PER_FAMILY = 5;

interface Pair {
  field: string;
  transformation: Transformation;
  keys: number;
}

interface FamilyState {
  judged: number;
  differing: number;
  pairs: Map<string, Pair>;
}

/** The finding fields the tally reads. */
export type TalliedFinding = Pick<Finding, 'family' | 'verdict' | 'reason' | 'diff'>;

/** A diff path with array indices folded, so `items[0].at` and `items[7].at` count as one field. */
export function fieldOf(path: string): string {
  return path.replace(/\[\d+\]/g, '[]');
}

/** The transformations of one key's diff: each (folded field, transformation) once. */
export function keyTransformations(diff: Finding['diff']): { field: string; transformation: Transformation }[] {
  const seen = new Map<string, { field: string; transformation: Transformation }>();
  for (const d of diff) {
    const t = recognizeTransformation(d.cache, d.source);
    if (t === undefined) continue;
    const field = fieldOf(d.path);
    const id = `${field}\u0000${t.signature}`;
    if (!seen.has(id)) seen.set(id, { field, transformation: t });
  }
  return [...seen.values()];
}

/**
 * Streams the judged keys of a run (one population: the sample) and concludes, at the end, which
 * families differ systematically. Memory: per family two counters and at most
 * MAX_PAIRS_PER_FAMILY pairs, whatever the number of keys.
 */
export class SystematicTally {
  private readonly families = new Map<string, FamilyState>();

  add(finding: TalliedFinding): void {
    const { verdict } = finding;
    if (verdict !== 'match' && verdict !== 'within-ttl' && verdict !== 'divergent') return;
    let state = this.families.get(finding.family);
    if (state === undefined) {
      state = { judged: 0, differing: 0, pairs: new Map() };
      this.families.set(finding.family, state);
    }
    state.judged++;
    // A converged key matched on its second read: what it showed first was a write in flight.
    if (verdict === 'match' || finding.reason === 'converged' || finding.diff.length === 0) return;
    state.differing++;
    for (const { field, transformation } of keyTransformations(finding.diff)) {
      const id = `${field}\u0000${transformation.signature}`;
      const pair = state.pairs.get(id);
      if (pair !== undefined) pair.keys++;
      else if (state.pairs.size < MAX_PAIRS_PER_FAMILY) state.pairs.set(id, { field, transformation, keys: 1 });
    }
  }

  /** The run's systematic warnings, families in the order first seen, most keys first within one. */
  warnings(): RunWarning[] {
    const out: RunWarning[] = [];
    for (const [family, state] of this.families) {
      const found = [...state.pairs.values()]
        .filter((p) => isSystematic(p, state))
        .sort((a, b) => b.keys - a.keys)
        .slice(0, MAX_WARNINGS_PER_FAMILY);
      for (const p of found) out.push({ kind: 'systematic', family, field: p.field, message: systematicMessage(p, state) });
    }
    return out;
  }
}

function isSystematic(pair: Pair, state: FamilyState): boolean {
  const minJudged = pair.transformation.kind === 'presence' ? PRESENCE_MIN_JUDGED_SHARE : SYSTEMATIC_MIN_JUDGED_SHARE;
  return pair.keys >= SYSTEMATIC_MIN_KEYS && pair.keys >= SYSTEMATIC_MIN_SHARE * state.differing && pair.keys >= minJudged * state.judged;
}

function systematicMessage(pair: Pair, state: FamilyState): string {
  const t = pair.transformation;
  const problem =
    t.kind === 'presence' ? 'likely a rules problem (a field one side does not hold), not stale data' : 'likely a rules or normalization problem, not stale data';
  return (
    `field \`${pair.field}\` differs on ${pair.keys}/${state.differing} differing keys the same way (${state.judged} judged): ` +
    `${t.summary}; ${problem}; check ${t.remedy}`
  );
}

/**
 * For `explain`: the hint for one key whose differing fields are all recognised transformations
 * (undefined when any field differs in value, which is what stale data looks like). Given instead
 * of the reason's likely cause, which for stale-repopulated would blame a race.
 */
export function transformationHint(diff: Finding['diff']): string | undefined {
  if (diff.length === 0) return undefined;
  // One key with a value on one side only is what a stale entry of a nullable column looks like:
  // only a family-wide tally can call that a rules problem.
  const found = keyTransformations(diff).filter((f) => f.transformation.kind !== 'presence');
  const transformed = new Set(found.map((f) => f.field));
  if (!diff.every((d) => transformed.has(fieldOf(d.path)))) return undefined;
  const fields = found.map((f) => `field \`${f.field}\`: ${f.transformation.summary}`).join('; ');
  const remedies = [...new Set(found.map((f) => f.transformation.remedy))].join('; ');
  return `${fields}: the same value in another form, likely a rules or normalization problem, not stale data (check ${remedies})`;
}

/** For `explain`: fields of a key that differ only in form, beside others that differ in value. */
export function transformationNotes(diff: Finding['diff']): string[] {
  return keyTransformations(diff)
    .filter((f) => f.transformation.kind !== 'presence')
    .map((f) => `field \`${f.field}\` differs only in form: ${f.transformation.summary}`);
}

/**
 * The systematic warnings of `family` as one clause for a gate failure, or undefined when it has
 * none: "suspected rules problem in family `events`: field `day` ...".
 */
export function suspectedRulesProblem(warnings: readonly RunWarning[] | undefined, family: string): string | undefined {
  const mine = (warnings ?? []).filter((w) => w.kind === 'systematic' && w.family === family);
  if (mine.length === 0) return undefined;
  return `suspected rules problem in family ${family}, not stale data: ${mine.map((w) => w.message.replace(/; likely a .*$/, '')).join('; ')}`;
}
