/**
 * Splitting a number of calls over nodes in proportion to their sizes, by the largest-remainder
 * method: each gets the floor of its exact quota, and the calls left over go one each to the
 * largest fractional parts (ties to the earlier node, so the split is deterministic). A node of
 * weight 0 gets nothing: RANDOMKEY on an empty node returns nothing, and a call spent there is a
 * call the sample loses. Exact integer arithmetic (BigInt), so large DBSIZEs round correctly.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`apportion: total must be a non-negative integer, got ${total}`);
  if (weights.some((w) => !Number.isInteger(w) || w < 0)) throw new RangeError('apportion: weights must be non-negative integers');
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
  if (sum === 0n || total === 0) return weights.map(() => 0);
  const quotas = weights.map((w, index) => {
    const exact = BigInt(total) * BigInt(w);
    return { index, floor: exact / sum, remainder: exact % sum };
  });
  const shares = quotas.map((q) => Number(q.floor));
  let left = total - shares.reduce((a, n) => a + n, 0);
  const byRemainder = [...quotas].filter((q) => q.remainder > 0n).sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const q of byRemainder) {
    if (left === 0) break;
    shares[q.index] = (shares[q.index] as number) + 1;
    left--;
  }
  return shares;
}
