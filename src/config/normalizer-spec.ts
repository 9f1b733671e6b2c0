import type { NormalizerSpec } from '../core/rule.js';

/** Normalizer names that take no argument. `decimal:N` is the one with an argument. */
const SIMPLE = ['lowercase', 'trim', 'number', 'timestamp', 'boolean', 'sorted', 'json', 'date', 'empty-as-null'] as const;

/** Most places a decimal comparison may keep; beyond that no database column is that precise. */
export const MAX_DECIMAL_PLACES = 30;

export const NORMALIZER_NAMES: readonly string[] = [...SIMPLE.slice(0, 3), 'decimal:N', ...SIMPLE.slice(3)];

/** The spec for a normalizer as written in `normalize:`, or undefined when it is not one. */
export function parseNormalizer(text: string): NormalizerSpec | undefined {
  if ((SIMPLE as readonly string[]).includes(text)) return { name: text } as NormalizerSpec;
  const decimal = /^decimal:(\d{1,3})$/.exec(text);
  if (decimal?.[1] === undefined) return undefined;
  const places = Number(decimal[1]);
  return places <= MAX_DECIMAL_PLACES ? { name: 'decimal', places } : undefined;
}

/** The normalizer texts of one `normalize:` entry: a name, or a list of names applied in order. */
export function normalizerTexts(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** A `normalize:` key read as a path: its top-level field and the steps inside the field's value. */
export interface ParsedPath {
  field: string;
  /** Object keys, and `[]` for every element of an array. Empty for a plain field. */
  steps: string[];
}

const PATH_SEGMENT = /^([^.[\]]+)((?:\[\])*)$/;

/**
 * `meta.at` → meta, [at]; `items[].at` → items, ['[]', at]; `email` → email, []. A key that
 * `fields` lists verbatim is that field even if it holds a dot (a hash field named `a.b`).
 * A malformed path (`items[`, `.a`, `a..b`, `a[0]`) gives a problem to report.
 */
export function parseNormalizePath(key: string, fields?: readonly unknown[]): ParsedPath | { problem: string } {
  if (fields?.includes(key) === true || !/[.[\]]/.test(key)) {
    return key === '' ? { problem: 'an empty field name' } : { field: key, steps: [] };
  }
  const steps: string[] = [];
  let field: string | undefined;
  for (const [i, segment] of key.split('.').entries()) {
    const m = PATH_SEGMENT.exec(segment);
    if (m?.[1] === undefined) {
      return { problem: segment === '' ? (i === 0 ? 'it starts with a dot' : 'it has an empty step (two dots, or a dot at the end)') : describeBadSegment(segment) };
    }
    if (field === undefined) field = m[1];
    else steps.push(m[1]);
    for (let k = 0; k < (m[2] ?? '').length / 2; k++) steps.push('[]');
  }
  return field === undefined ? { problem: 'it names no field' } : { field, steps };
}

function describeBadSegment(segment: string): string {
  if (segment.startsWith('[')) return `"${segment}" has no name before its brackets`;
  if (/\[\d+\]/.test(segment)) return `"${segment}" names an index; paths reach every element with [], like items[].at`;
  return `"${segment}" is not a name optionally followed by []`;
}
