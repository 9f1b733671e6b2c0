/**
 * Normalizers inferred from sampled pairs (a cached payload and its row): a field whose values
 * differ in most pairs, in a way one normalizer removes (letter case, spaces, a timestamp's
 * spelling), needs that normalizer, or every key would be reported as stale.
 *
 * A stale entry differs too, but in a way no normalizer removes, and only in a few pairs; so a
 * normalizer is proposed only when it accounts for most of the differences of its field, and for
 * several of them.
 */
import type { ColumnTypes } from '../core/column-type.js';
import { equalByType } from '../core/compare-by-type.js';
import { valuesEqual } from '../core/compare.js';
import { normalizeValue } from '../core/normalize.js';
import type { NormalizerSpec } from '../core/rule.js';

/** Tried in this order; the first that removes the most differences wins. */
const CANDIDATES: readonly { text: string; spec: NormalizerSpec }[] = [
  { text: 'trim', spec: { name: 'trim' } },
  { text: 'lowercase', spec: { name: 'lowercase' } },
  { text: 'timestamp', spec: { name: 'timestamp' } },
  { text: 'boolean', spec: { name: 'boolean' } },
  { text: 'number', spec: { name: 'number' } },
  { text: 'json', spec: { name: 'json' } },
  { text: 'sorted', spec: { name: 'sorted' } },
];

/** A normalizer must remove at least this many differences, and this share of its field's. */
const MIN_FIXED = 3;
const MIN_SHARE = 0.8;

export interface PayloadPair {
  cache: Readonly<Record<string, unknown>>;
  row: Readonly<Record<string, unknown>>;
  /** The source's column types by field: a difference the audit's comparison by type removes needs no normalizer. */
  columns?: ColumnTypes;
}

export interface InferredNormalizer {
  field: string;
  normalizer: string;
  /** Pairs compared, pairs that differed, and differences the normalizer removes. */
  compared: number;
  differing: number;
  fixed: number;
}

/** `fields`: the compared fields, named as they are in both payloads. */
export function inferNormalizers(pairs: readonly PayloadPair[], fields: readonly string[]): InferredNormalizer[] {
  const out: InferredNormalizer[] = [];
  for (const field of fields) {
    const differing: [unknown, unknown][] = [];
    let compared = 0;
    for (const { cache, row, columns } of pairs) {
      if (!(field in cache)) continue;
      compared++;
      if (!equalByType(columns?.[field], cache[field], row[field])) differing.push([cache[field], row[field]]);
    }
    if (differing.length < MIN_FIXED) continue;
    let best: { text: string; fixed: number } | undefined;
    for (const { text, spec } of CANDIDATES) {
      const fixed = differing.filter(([c, r]) => valuesEqual(normalizeValue(spec, c), normalizeValue(spec, r))).length;
      if (best === undefined || fixed > best.fixed) best = { text, fixed };
    }
    if (best === undefined || best.fixed < MIN_FIXED || best.fixed < MIN_SHARE * differing.length) continue;
    out.push({ field, normalizer: best.text, compared, differing: differing.length, fixed: best.fixed });
  }
  return out;
}
