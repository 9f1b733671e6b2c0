import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/**
 * Uniform sample of at most `size` items from a stream of unknown length (Vitter's Algorithm R):
 * after n offers, every item offered so far is kept with probability size/n. Seeded, so a run
 * with `--seed` picks the same keys from the same keyspace.
 */
export class Reservoir<T> {
  private readonly kept: T[] = [];
  private readonly rng: RandomGenerator;
  seen = 0;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.rng = xoroshiro128plus(seed);
  }

  offer(item: T): void {
    this.seen++;
    if (this.kept.length < this.size) {
      this.kept.push(item);
      return;
    }
    const slot = unsafeUniformIntDistribution(0, this.seen - 1, this.rng);
    if (slot < this.size) this.kept[slot] = item;
  }

  items(): readonly T[] {
    return this.kept;
  }
}
