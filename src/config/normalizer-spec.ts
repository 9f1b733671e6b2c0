import type { NormalizerSpec } from '../core/rule.js';

/** Normalizer names that take no argument. `decimal:N` is the one with an argument. */
const SIMPLE = ['lowercase', 'trim', 'number', 'timestamp', 'boolean', 'sorted', 'json'] as const;

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
