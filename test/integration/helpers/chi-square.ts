/** Pearson's chi-square of row numbers over `buckets` equal ranges of 1..rows (sampleIds uniformity tests). */
export function chiSquareOverRows(numbers: readonly number[], rows: number, buckets = 20): number {
  const counts = new Array<number>(buckets).fill(0);
  for (const n of numbers) counts[Math.min(buckets - 1, Math.floor(((n - 1) * buckets) / rows))]! += 1;
  const expected = numbers.length / buckets;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/** Chi-square with 19 degrees of freedom (20 buckets) exceeds this with probability 0.001. */
export const CHI2_19_P001 = 43.82;
