import { describe, expect, it } from 'vitest';
import type { FamilyRule } from '../../../src/core/rule.js';
import {
  SLOT_COUNT,
  keySlot,
  ownsKey,
  parseShard,
  rulesDigest,
  shardMeta,
  shardOfKey,
  shardOfSlot,
  slotRange,
  type Shard,
} from '../../../src/core/shard.js';
import { UsageError } from '../../../src/errors.js';

const COUNTS = [1, 2, 3, 4, 7, 8, 10, 64, 1000, 16383, 16384];

describe('parseShard', () => {
  it('reads i/N, counting from 0', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
    expect(parseShard('16383/16384')).toEqual({ index: 16383, count: 16384 });
  });

  it.each([
    ['', /takes i\/N/],
    ['2', /takes i\/N \(shard i of N, counting from 0\), got "2"/],
    ['2/', /takes i\/N/],
    ['-1/4', /takes i\/N/],
    ['1.5/4', /takes i\/N/],
    ['a/b', /takes i\/N/],
    ['1 / 4', /takes i\/N/],
    ['1/0', /--shard 1\/0: the shard count must be at least 1/],
    ['4/4', /--shard 4\/4: the index must be below the count; 4 shards are numbered 0 to 3/],
    ['0/16385', /at most 16384 shards, one per Redis Cluster hash slot/],
  ])('refuses %j with a usage error (exit 2) that says what was expected', (text, message) => {
    const parse = (): Shard => parseShard(text);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
    try {
      parse();
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(2);
      expect((error as UsageError).hint).toMatch(/--shard 0\/4, 1\/4, 2\/4 and 3\/4/);
    }
  });
});

describe('slot ranges', () => {
  it('are contiguous, disjoint and cover all 16384 slots, for any count', () => {
    for (const count of COUNTS) {
      let next = 0;
      for (let index = 0; index < count; index++) {
        const { start, end } = slotRange({ index, count });
        expect(start).toBe(next);
        expect(end).toBeGreaterThanOrEqual(start);
        next = end;
      }
      expect(next).toBe(SLOT_COUNT);
    }
  });

  it('shard i of N owns slots [floor(i*16384/N), floor((i+1)*16384/N))', () => {
    expect(slotRange({ index: 0, count: 3 })).toEqual({ start: 0, end: 5461 });
    expect(slotRange({ index: 1, count: 3 })).toEqual({ start: 5461, end: 10922 });
    expect(slotRange({ index: 2, count: 3 })).toEqual({ start: 10922, end: 16384 });
  });

  it('every slot maps to the one shard whose range holds it', () => {
    for (const count of COUNTS) {
      for (let slot = 0; slot < SLOT_COUNT; slot++) {
        const index = shardOfSlot(slot, count);
        const { start, end } = slotRange({ index, count });
        if (slot < start || slot >= end) throw new Error(`slot ${slot} of ${count} shards went to shard ${index} [${start}, ${end})`);
      }
    }
  });
});

describe('shardOfKey', () => {
  it('uses the Redis Cluster hash slot (CRC16 mod 16384), as CLUSTER KEYSLOT reports it', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot(Buffer.from('somekey'))).toBe(11058);
    expect(shardOfKey('foo', 4)).toBe(2); // 12182 in [8192, 12288)
    expect(shardOfKey('somekey', 4)).toBe(2);
  });

  it('honours hash tags: keys sharing a {tag} share a shard, whatever the count', () => {
    expect(keySlot('foo{hash_tag}')).toBe(2515);
    expect(keySlot('bar{hash_tag}')).toBe(2515);
    for (const count of COUNTS) {
      for (let i = 0; i < 200; i++) {
        const a = shardOfKey(`{user:${i}}:profile`, count);
        expect(shardOfKey(`{user:${i}}:orders`, count)).toBe(a);
        expect(shardOfKey(`user:${i}`, count)).toBe(a);
      }
    }
    // An empty tag is no tag; only the first {...} counts.
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
  });

  it('reads the raw bytes SCAN returns the same as their UTF-8 string', () => {
    for (const key of ['user:42', 'café:1', '{ключ}:x', '😀:7']) expect(shardOfKey(Buffer.from(key), 7)).toBe(shardOfKey(key, 7));
    // Bytes that are not UTF-8 still get a slot.
    expect(shardOfKey(Buffer.from([0xff, 0xfe, 0x3a, 0x31]), 7)).toBeLessThan(7);
  });

  it('puts every key in exactly one shard', () => {
    for (const count of [1, 2, 5, 16]) {
      for (let i = 0; i < 5000; i++) {
        const key = `order:${i * 7919}`;
        let owners = 0;
        for (let index = 0; index < count; index++) if (ownsKey({ index, count }, key)) owners++;
        expect(owners).toBe(1);
      }
    }
  });

  it('spreads keys roughly evenly', () => {
    const count = 8;
    const keys = 100_000;
    const perShard = new Array<number>(count).fill(0);
    for (let i = 0; i < keys; i++) {
      const s = shardOfKey(`user:${i}`, count);
      perShard[s] = (perShard[s] ?? 0) + 1;
    }
    for (const n of perShard) {
      expect(n).toBeGreaterThan((keys / count) * 0.95);
      expect(n).toBeLessThan((keys / count) * 1.05);
    }
  });

  it('is one shard for everything when the count is 1', () => {
    expect(shardOfKey('anything', 1)).toBe(0);
    expect(ownsKey({ index: 0, count: 1 }, 'anything')).toBe(true);
  });
});

describe('shard metadata for the report', () => {
  const family = (overrides: Partial<FamilyRule> & Pick<FamilyRule, 'name'>): FamilyRule => ({
    pattern: { source: `${overrides.name}:{id}`, glob: `${overrides.name}:*`, placeholders: ['id'], match: () => undefined, render: (id) => id },
    type: 'string',
    codec: 'json',
    source: 'main',
    key: ['id'],
    ttlMs: 300_000,
    maxStalenessMs: 300_000,
    clockSkewMs: 1000,
    normalize: { email: [{ name: 'lowercase' }] },
    redact: [],
    ...overrides,
  });

  it('digests the compiled rules: equal rules give equal digests whatever the property order', () => {
    const a = family({ name: 'user', fields: ['name'], minConsistency: 0.99 });
    const { name, ...rest } = a;
    const reordered = { ...rest, name } as FamilyRule;
    expect(rulesDigest([a])).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(rulesDigest([reordered])).toBe(rulesDigest([a]));
    expect(rulesDigest([family({ name: 'user', fields: ['name'], minConsistency: 0.99, ttlMs: 60_000 })])).not.toBe(rulesDigest([a]));
    expect(rulesDigest([a, family({ name: 'order' })])).not.toBe(rulesDigest([a]));
  });

  it('carries the shard, the digest and the families\' own minConsistency', () => {
    const families = [family({ name: 'user', minConsistency: 0.999 }), family({ name: 'order' })];
    expect(shardMeta({ index: 1, count: 4 }, families)).toEqual({
      index: 1,
      count: 4,
      rulesDigest: rulesDigest(families),
      minConsistency: { user: 0.999 },
    });
  });
});
