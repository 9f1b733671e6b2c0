/** Sampling that gives the same answer on every run, so two runs of init propose the same file. */

/** At most n of the items, picked by a seeded shuffle (mulberry32); all of them when there are fewer. */
export function pickSample<T>(items: readonly T[], n: number, seed = 0x5eed): T[] {
  if (items.length <= n) return [...items];
  const copy = [...items];
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}
