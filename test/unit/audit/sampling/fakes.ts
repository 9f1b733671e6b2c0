import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import type { Throttle } from '../../../../src/audit/throttle.js';
import type { CacheReader } from '../../../../src/cache/types.js';
import { compilePattern } from '../../../../src/config/key-pattern.js';
import type { FamilyRule } from '../../../../src/core/rule.js';
import type { SampledIds, SourceBatch, SourceLoader } from '../../../../src/sources/types.js';

/** A family rule with the fields the draws read. */
export function rule(name: string, pattern: string, table = name): FamilyRule {
  return {
    name,
    pattern: compilePattern(pattern),
    type: 'string',
    codec: 'json',
    source: 'main',
    table,
    key: ['id'],
    ttlMs: 300_000,
    maxStalenessMs: 300_000,
    clockSkewMs: 1000,
    normalize: {},
    redact: [],
  };
}

/** A keyspace answering RANDOMKEY from a seeded generator (uniform, with repeats) and EXISTS; records the pipelines. */
export class FakeKeyspace implements CacheReader {
  readonly target = 'fake://keyspace';
  /** Calls announced per pipeline (beforeCommand), in order. */
  readonly pipelines: number[] = [];
  /** Keys of each `exists` call. */
  readonly existsCalls: string[][] = [];
  private readonly rng = xoroshiro128plus(42);
  readonly keys: Buffer[];

  constructor(keys: Iterable<string | Buffer>) {
    this.keys = [...keys].map((k) => (Buffer.isBuffer(k) ? k : Buffer.from(k)));
  }

  scan(): AsyncIterable<Buffer[]> {
    throw new Error('the draws must not SCAN');
  }

  async read(): Promise<never> {
    throw new Error('the draws must not read values');
  }

  async size(): Promise<number> {
    return this.keys.length;
  }

  async randomKeys(count: number, beforeCommand?: (calls: number) => Promise<void>): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let sent = 0; sent < count; sent += 1000) {
      const calls = Math.min(1000, count - sent);
      this.pipelines.push(calls);
      await beforeCommand?.(calls);
      if (this.keys.length === 0) continue;
      for (let i = 0; i < calls; i++) out.push(this.keys[unsafeUniformIntDistribution(0, this.keys.length - 1, this.rng)] as Buffer);
    }
    return out;
  }

  async exists(keys: readonly Buffer[]): Promise<boolean[]> {
    this.existsCalls.push(keys.map((k) => k.toString()));
    const held = new Set(this.keys.map((k) => k.toString('latin1')));
    return keys.map((k) => held.has(k.toString('latin1')));
  }

  async close(): Promise<void> {}
}

/** A throttle that records what it was asked for. */
export function recordingThrottle(): Throttle & { taken: number[] } {
  const taken: number[] = [];
  return { taken, take: async (n: number) => void taken.push(n) };
}

/**
 * A loader whose table holds ids 1..rows: sampleIds returns a seeded uniform pick of `count`
 * distinct ids (all of them when fewer), and records each request.
 */
export class FakeTable implements SourceLoader {
  readonly requests: { count: number; seed: number }[] = [];
  constructor(
    private readonly rows: number,
    private readonly extraIds: string[] = [],
  ) {}

  async load(): Promise<SourceBatch> {
    throw new Error('the draws must not load rows');
  }

  async sampleIds(_rule: FamilyRule, count: number, seed: number): Promise<SampledIds> {
    this.requests.push({ count, seed });
    const rng = xoroshiro128plus(seed);
    const all = [...Array.from({ length: this.rows }, (_, i) => String(i + 1)), ...this.extraIds];
    for (let i = 0; i < Math.min(count, all.length); i++) {
      const j = unsafeUniformIntDistribution(i, all.length - 1, rng);
      [all[i], all[j]] = [all[j] as string, all[i] as string];
    }
    return { ids: all.slice(0, count), tableRows: all.length, method: 'fake: a seeded shuffle' };
  }

  async close(): Promise<void> {}
}
