import type { OrderTerm, Tolerance } from '../core/rule.js';

/**
 * `created_at DESC, id NULLS LAST` → terms. The schema's pattern already admits only column names
 * with ASC/DESC and NULLS FIRST/LAST, so the loaders can quote each column and never splice the
 * user's text into SQL.
 */
export function parseOrderBy(text: string): OrderTerm[] {
  return text
    .split(',')
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words[0] !== undefined && words[0] !== '')
    .map((words) => {
      const upper = words.map((w) => w.toUpperCase());
      const term: OrderTerm = { column: words[0] as string, descending: upper.includes('DESC') };
      const nulls = upper.indexOf('NULLS');
      if (nulls !== -1) term.nulls = upper[nulls + 1] === 'FIRST' ? 'first' : 'last';
      return term;
    });
}

/** `5` or `"5"` → absolute; `"1%"` → relative 0.01. Undefined for text the schema would reject. */
export function parseTolerance(value: number | string): Tolerance | undefined {
  const text = String(value).trim();
  const match = /^([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(text);
  if (match === null) return undefined;
  const amount = match[1] as string;
  return match[2] === '%' ? { kind: 'relative', ratio: Number(amount) / 100 } : { kind: 'absolute', amount };
}
