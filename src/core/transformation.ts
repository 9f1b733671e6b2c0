/**
 * The vocabulary of systematic differences (systematic.ts): what a recognised transformation is,
 * the remedies its messages suggest, and how a value reads as a number; shared by the recognisers
 * of time forms (time-transformation.ts) and of types, text and numbers (value-transformation.ts).
 */

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

const NUMERIC_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export const REMEDY = {
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

export function transformation(kind: TransformationKind, cache: string, source: string, remedy: string, summary = `cache ${cache}, source ${source}`): Transformation {
  return { kind, signature: `${kind}|${cache}|${source}`, summary, remedy };
}

export interface NumberOf {
  value: number;
  /** Digits after the decimal point as written. */
  fraction: number;
  type: 'number' | 'string';
}

export function numberOf(value: unknown): NumberOf | undefined {
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
