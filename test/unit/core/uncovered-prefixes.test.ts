import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyPrefix, MAX_PREFIX_CHARS, UncoveredPrefixes } from '../../../src/core/uncovered-prefixes.js';

describe('keyPrefix', () => {
  it.each([
    ['session:abc123:x', 'session:'],
    ['user:42:profile', 'user:'],
    ['user:42', 'user:'],
    ['cache:v2:user:42', 'cache:'],
    ['{tenant}:orders:9:lines', '{tenant}:orders:'],
    ['config:feature-flags', 'config:'],
    ['a:b:c', 'a:b:'],
    ['leaderboard', 'leaderboard'],
    ['user12345', 'user'],
    ['42', ''],
    ['', ''],
    ['order:5f1c-9b2e', 'order:'],
  ])('%s -> %s', (key, prefix) => {
    expect(keyPrefix(key)).toBe(prefix);
  });

  it('cuts a huge prefix so that a few long keys cannot fill memory', () => {
    const prefix = keyPrefix(`${'x'.repeat(5000)}:1`);
    expect(prefix).toHaveLength(MAX_PREFIX_CHARS + 1);
    expect(prefix.endsWith('…')).toBe(true);
  });
});

describe('UncoveredPrefixes', () => {
  it('counts exactly under its capacity, most first, ties by prefix', () => {
    const p = new UncoveredPrefixes(10);
    for (let i = 0; i < 30; i++) p.add(`session:${i}`);
    for (let i = 0; i < 5; i++) p.add(`tmp:${i}:lock`);
    for (let i = 0; i < 5; i++) p.add(`job:${i}`);
    p.add('leaderboard');
    expect(p.top(3)).toEqual([
      { prefix: 'session:', keys: 30 },
      { prefix: 'job:', keys: 5 },
      { prefix: 'tmp:', keys: 5 },
    ]);
    expect(p.top(10)).toHaveLength(4);
    expect(p.top(0)).toEqual([]);
    expect(p.approximate).toBe(false);
  });

  it('keeps at most `capacity` prefixes however many distinct ones arrive, and says it is approximate', () => {
    const p = new UncoveredPrefixes(100);
    for (let i = 0; i < 1000; i++) p.add(`heavy:${i}`);
    for (let i = 0; i < 50_000; i++) p.add(`k${String.fromCharCode(97 + (i % 26))}${i.toString(36).replace(/[0-9]/g, 'z')}:x`);
    expect(p.top(Infinity)).toHaveLength(100);
    expect(p.approximate).toBe(true);
    expect(p.top(1)[0]!.prefix).toBe('heavy:');
  });

  it('rejects a capacity below one', () => {
    expect(() => new UncoveredPrefixes(0)).toThrow(RangeError);
  });

  it('Space-Saving bounds: no count understates, none overstates by more than total / capacity, every heavy prefix is listed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 2000 }), fc.integer({ min: 1, max: 20 }), (families, capacity) => {
        const p = new UncoveredPrefixes(capacity);
        const truth = new Map<string, number>();
        // Skewed (f² / 60 makes small numbers commoner); each number spells its own digit-free prefix.
        const keys = families.map((f, i) => {
          const n = Math.floor((f * f) / 60);
          return `f${String.fromCharCode(97 + (Math.floor(n / 4) % 26))}${'q'.repeat(n % 4)}:${i}`;
        });
        for (const key of keys) {
          p.add(key);
          const prefix = key.slice(0, key.indexOf(':') + 1);
          truth.set(prefix, (truth.get(prefix) ?? 0) + 1);
        }
        const listed = p.top(Infinity);
        expect(listed.length).toBeLessThanOrEqual(capacity);
        expect(listed.reduce((s, e) => s + e.keys, 0)).toBe(keys.length);
        const slack = keys.length / capacity;
        for (const { prefix, keys: counted } of listed) {
          const actual = truth.get(prefix) ?? 0;
          expect(counted).toBeGreaterThanOrEqual(actual);
          expect(counted - actual).toBeLessThanOrEqual(slack);
        }
        for (const [prefix, actual] of truth) {
          if (actual > slack) expect(listed.some((e) => e.prefix === prefix)).toBe(true);
        }
        if (!p.approximate) expect(Object.fromEntries(listed.map((e) => [e.prefix, e.keys]))).toEqual(Object.fromEntries(truth));
      }),
      { numRuns: 300 },
    );
  });
});
