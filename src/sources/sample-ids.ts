/**
 * What the PostgreSQL and MySQL loaders share for --sampling source (sampleIds): the table-form
 * requirement, when a table counts as small, and the seeded choices made on the client.
 */
import { unsafeUniformBigIntDistribution, unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import type { FamilyRule } from '../core/rule.js';
import { UsageError } from '../errors.js';

/**
 * A table with fewer rows than this many times the count asked is sampled exactly: every row is
 * ranked by a seeded hash of its key and the first `count` are kept (one full read of a small table).
 */
export const SMALL_TABLE_FACTOR = 10;

/** A row sample aims at this many times the count asked, so that its natural spread rarely falls short; the rest is trimmed at random. */
export const OVERSAMPLE = 1.5;

/** --sampling source reads random rows of the family's table: a `query` cannot be sampled. */
export function requireSampleTable(rule: FamilyRule): string {
  if (rule.table === undefined) {
    throw new UsageError(`family "${rule.name}": --sampling source needs \`table\` in the rule (a \`query\` cannot be sampled)`);
  }
  return rule.table;
}

/** The count asked, as a whole number of at least 0 (a LIMIT the server accepts). */
export function sampleCount(count: number): number {
  return Number.isFinite(count) && count > 0 ? Math.floor(count) : 0;
}

/** A generator for the seed: the same seed, the same choices (pure-rand, as audit/reservoir.ts). */
export function seededRandom(seed: number): RandomGenerator {
  return xoroshiro128plus(Math.trunc(seed) | 0);
}

/** `count` of `items` in a seeded random order (partial Fisher-Yates): a uniform trim of a larger sample. */
export function seededPick<T>(items: readonly T[], count: number, seed: number): T[] {
  const copy = [...items];
  const rng = seededRandom(seed);
  const take = Math.min(count, copy.length);
  for (let i = 0; i < take; i++) {
    const j = unsafeUniformIntDistribution(i, copy.length - 1, rng);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, take);
}

/** Distinct integers drawn uniformly from [min, max], in draw order, skipping those in `skip`; at most the range's size. */
export function distinctPoints(min: bigint, max: bigint, n: number, rng: RandomGenerator, skip: ReadonlySet<bigint>): bigint[] {
  const size = max - min + 1n;
  const room = size - BigInt(skip.size);
  const want = BigInt(n) < room ? n : Number(room);
  const points = new Set<bigint>();
  // Rejection of repeats: when the range is nearly used up, give up after enough tries rather than loop.
  for (let tries = 0; points.size < want && tries < want * 20 + 100; tries++) {
    const point = unsafeUniformBigIntDistribution(min, max, rng);
    if (!skip.has(point)) points.add(point);
  }
  return [...points];
}
