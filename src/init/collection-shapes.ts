/**
 * What init can tell about a key that holds many rows, from its sampled value alone: the shape
 * of a LIST's or SET's elements (ids?), a ZSET's scores, a string holding a JSON array of objects
 * or an integer (a counter, maybe). Pure; the table is chosen by collection-target.ts.
 */
import type { Buffer} from 'node:buffer';
import { isUtf8 } from 'node:buffer';
import type { ScoredMember } from '../core/observation.js';
import type { ColumnCategory } from './catalog.js';

/** How a collection's elements look: the column categories that can hold them. */
export type ElementShape = 'integer' | 'uuid' | 'text';

const INTEGER = /^-?[0-9]{1,19}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every element an integer, or every one a uuid, or else text; undefined with no elements. */
export function elementShape(elements: readonly string[]): ElementShape | undefined {
  if (elements.length === 0) return undefined;
  if (elements.every((e) => INTEGER.test(e))) return 'integer';
  if (elements.every((e) => UUID.test(e))) return 'uuid';
  return 'text';
}

/** The column categories an element of each shape can be compared with exactly. */
export const SHAPE_CATEGORIES: Record<ElementShape, readonly ColumnCategory[]> = {
  integer: ['integer'],
  uuid: ['uuid', 'text'],
  text: ['text'],
};

/** A sorted set's scores as Redis spells them: integers when every one is whole. */
export function scoreShape(members: readonly ScoredMember[]): 'integer' | 'decimal' | undefined {
  if (members.length === 0) return undefined;
  return members.every((m) => INTEGER.test(m.score)) ? 'integer' : 'decimal';
}

/** The elements of a list or set as text; undefined when one is not UTF-8 (ids are text). */
export function elementTexts(value: readonly Buffer[]): string[] | undefined {
  if (value.some((b) => !isUtf8(b))) return undefined;
  return value.map((b) => b.toString('utf8'));
}

/**
 * A string holding a JSON array whose elements are all objects (`[]` included): the elements,
 * else undefined. Such a value is many rows in one key (`rows: many`, codec json).
 */
export function jsonArrayOfObjects(bytes: Buffer): Record<string, unknown>[] | undefined {
  const text = bytes.toString('utf8');
  if (!text.trimStart().startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e))) return undefined;
  return parsed as Record<string, unknown>[];
}

/** A string holding a whole number, as INCR leaves it (`42`, `-3`, `0`). */
export function counterValue(bytes: Buffer): bigint | undefined {
  const text = bytes.toString('utf8');
  return INTEGER.test(text) ? BigInt(text) : undefined;
}

/**
 * Field names of JSON array elements, with how many elements hold each, most frequent first
 * (the order the first element holds them on a tie).
 */
export function elementFields(arrays: Iterable<readonly Record<string, unknown>[]>): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const array of arrays) for (const element of array) for (const name of Object.keys(element)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
}
