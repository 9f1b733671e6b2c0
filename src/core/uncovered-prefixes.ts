/**
 * The commonest prefixes of keys that no family covers, for the report's coverage section: they
 * tell a user which rules are missing ("1.2M keys under `session:`").
 *
 * The prefix of a key is its text before the first segment that looks like an id, where segments
 * are separated by ':' and a segment looks like an id when it holds a digit:
 *
 *   session:abc123:x        -> session:          (abc123 holds a digit)
 *   user:42:profile         -> user:
 *   cache:v2:user:42        -> cache:            (v2 counts as an id too: the rule is simple, not clever)
 *   {tenant}:orders:9:lines -> {tenant}:orders:
 *   config:feature-flags    -> config:           (no digit: up to and including the last ':')
 *   leaderboard             -> leaderboard       (no digit, no ':': the whole key)
 *   user12345               -> user              (the first segment holds the digit: cut before it)
 *   42                      -> ""                (nothing precedes the digit: the empty prefix)
 *
 * So ids spelled in digits (numbers, UUIDs, hex hashes, dates) group under one prefix. Ids with no
 * digit at all (`user:alice`) group by everything before their last ':' instead, which can make
 * many distinct prefixes; the counter below stays bounded whatever the keys are. A prefix longer
 * than MAX_PREFIX_CHARS is cut there and ends in '…', so a few huge keys cannot fill memory.
 *
 * Counting is exact while at most `capacity` distinct prefixes (10,000 by default) have been seen.
 * Beyond that it is Space-Saving (Metwally et al., 2005): a new prefix evicts the least counted one
 * and inherits its count plus one. Then a prefix's count may overstate its keys by at most the
 * count it inherited (never more than total / capacity), no count understates, and every prefix
 * holding more than total / capacity keys is certain to be listed. `approximate` says which case
 * the figures are in.
 */
export const MAX_PREFIX_CHARS = 200;
const DEFAULT_CAPACITY = 10_000;

/** The prefix of a key, by the rule above. */
export function keyPrefix(key: string): string {
  const digit = key.search(/[0-9]/);
  let prefix: string;
  if (digit < 0) {
    const lastColon = key.lastIndexOf(':');
    prefix = lastColon < 0 ? key : key.slice(0, lastColon + 1);
  } else {
    const colonBefore = key.lastIndexOf(':', digit);
    prefix = colonBefore < 0 ? key.slice(0, digit) : key.slice(0, colonBefore + 1);
  }
  return prefix.length > MAX_PREFIX_CHARS ? `${prefix.slice(0, MAX_PREFIX_CHARS)}…` : prefix;
}

interface Counted {
  prefix: string;
  keys: number;
  /** Where it sits in the heap. */
  at: number;
}

/** Bounded-memory counter of the commonest prefixes of keys no family covers (see the file comment). */
export class UncoveredPrefixes {
  private readonly byPrefix = new Map<string, Counted>();
  /** A min-heap on `keys`: its root is the entry Space-Saving evicts. */
  private readonly heap: Counted[] = [];
  private evicted = false;

  constructor(private readonly capacity: number = DEFAULT_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number >= 1, got ${capacity}`);
  }

  /** True once a prefix was evicted: counts may then overstate (see the file comment). */
  get approximate(): boolean {
    return this.evicted;
  }

  add(key: string): void {
    const prefix = keyPrefix(key);
    const known = this.byPrefix.get(prefix);
    if (known !== undefined) {
      known.keys++;
      this.siftDown(known.at);
      return;
    }
    if (this.heap.length < this.capacity) {
      const entry = { prefix, keys: 1, at: this.heap.length };
      this.heap.push(entry);
      this.byPrefix.set(prefix, entry);
      this.siftUp(entry.at);
      return;
    }
    // Space-Saving: the least counted prefix makes room and its count passes to the newcomer.
    const least = this.heap[0]!;
    this.byPrefix.delete(least.prefix);
    least.prefix = prefix;
    least.keys++;
    this.byPrefix.set(prefix, least);
    this.evicted = true;
    this.siftDown(0);
  }

  /** The `n` most counted prefixes, most first (ties by prefix, so output is stable). */
  top(n: number): { prefix: string; keys: number }[] {
    return [...this.heap]
      .sort((a, b) => b.keys - a.keys || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0))
      .slice(0, Math.max(0, n))
      .map(({ prefix, keys }) => ({ prefix, keys }));
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.keys <= this.heap[i]!.keys) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.heap.length && this.heap[left]!.keys < this.heap[least]!.keys) least = left;
      if (right < this.heap.length && this.heap[right]!.keys < this.heap[least]!.keys) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    a.at = j;
    b.at = i;
  }
}
