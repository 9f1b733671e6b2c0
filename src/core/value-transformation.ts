/**
 * Recognising a value stored as another type (a number as text, a boolean as a word, a structure
 * as JSON text), as other text (case, surrounding whitespace), or as another number (precision,
 * unit) on one side (systematic.ts).
 */
import { numberOf, REMEDY, transformation, type Transformation } from './transformation.js';

/** Precision: numbers equal at the lower precision, and no further apart than this (relative). */
const MAX_PRECISION_GAP = 1e-3;
/** Below this relative gap two numbers are the same double printed differently. */
const FLOAT_NOISE = 1e-12;

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

export function typeTransformation(cache: unknown, source: unknown): Transformation | undefined {
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

export function textTransformation(cache: unknown, source: unknown): Transformation | undefined {
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

export function numberTransformation(cache: unknown, source: unknown): Transformation | undefined {
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
