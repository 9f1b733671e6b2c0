import { describe, expect, it } from 'vitest';
import { familyName, inferPatterns, patternText } from '../../../src/init/patterns.js';
import { idShape, isIdLike } from '../../../src/init/tokens.js';

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i + 1));

describe('isIdLike', () => {
  it.each(['42', '0007', '3f2c1a9e-4b7d-4c1e-9a2b-1c2d3e4f5a6b', 'SKU-0042', 'a1b2c3d4', '2024-05-01', 'v2'])('%s looks like an id', (part) => {
    expect(isIdLike(part)).toBe(true);
  });
  it.each(['user', 'account-limits', '', 'profile_v', 'a b 1', 'x'.repeat(70) + '1'])('%j does not', (part) => {
    expect(isIdLike(part)).toBe(false);
  });
  it('classifies a set of ids by the narrowest shape all fit', () => {
    expect(idShape(['1', '22'])).toBe('digits');
    expect(idShape(['3f2c1a9e-4b7d-4c1e-9a2b-1c2d3e4f5a6b'])).toBe('uuid');
    expect(idShape(['SKU-1', '2'])).toBe('alnum');
    expect(idShape(['alice', 'bob'])).toBe('name');
  });
});

describe('inferPatterns', () => {
  it('turns the varying id part into one placeholder per group (user:123 -> user:{id})', () => {
    const keys = [...range(20, (i) => `demo:user:${i}`), ...range(8, (i) => `demo:product:SKU-${String(i).padStart(4, '0')}`)];
    const { patterns, uncovered } = inferPatterns(keys);
    expect(patterns.map((p) => patternText(p, 'id'))).toEqual(['demo:user:{id}', 'demo:product:{id}']);
    expect(patterns[0]?.keys).toHaveLength(20);
    expect(patterns[0]?.ids[0]).toBe('1');
    expect(patterns[0]?.shape).toBe('digits');
    expect(patterns[1]?.shape).toBe('alnum');
    expect(uncovered).toEqual([]);
  });

  it('keeps an id-like part that never changes as literal text (app:v2:user:{id})', () => {
    const { patterns } = inferPatterns(range(6, (i) => `app:v2:user:${i}`));
    expect(patterns.map((p) => patternText(p, 'id'))).toEqual(['app:v2:user:{id}']);
  });

  it('keeps a suffix after the placeholder (user:{id}:settings) apart from user:{id}', () => {
    const keys = [...range(6, (i) => `user:${i}`), ...range(6, (i) => `user:${i}:settings`)];
    expect(inferPatterns(keys).patterns.map((p) => patternText(p, 'id')).sort()).toEqual(['user:{id}', 'user:{id}:settings']);
  });

  it('reports groups with too few keys, single literal keys and several varying parts instead of proposing them', () => {
    const keys = [
      ...range(30, (i) => `demo:user:${i}`),
      'demo:user:1:sessions',
      'shadowcheck-demo:owner',
      ...range(6, (i) => `tenant:${i}:user:${i * 7}`),
    ];
    const { patterns, uncovered } = inferPatterns(keys);
    expect(patterns.map((p) => patternText(p, 'id'))).toEqual(['demo:user:{id}']);
    expect(uncovered.map((u) => [u.shape, u.count, u.reason.split(' ').slice(0, 3).join(' ')])).toEqual([
      ['tenant:*:user:*', 6, '2 parts vary;'],
      ['demo:user:*:sessions', 1, 'too few keys'],
      ['shadowcheck-demo:owner', 1, 'a single key'],
    ]);
  });

  it('takes a varying last part for an id by position when many keys share the rest (user:alice, user:bob)', () => {
    const { patterns } = inferPatterns(['user:alice', 'user:bob', 'user:carol', 'user:dave', 'user:erin']);
    expect(patterns).toHaveLength(1);
    expect(patterns[0]?.byPosition).toBe(true);
    expect(patterns[0]?.shape).toBe('name');
  });

  it('does not propose a pattern over keys with braces (a pattern cannot write them)', () => {
    const { patterns, uncovered } = inferPatterns(range(6, (i) => `{user}:${i}`));
    expect(patterns).toEqual([]);
    expect(uncovered[0]?.reason).toMatch(/cannot write/);
  });

  it('ignores duplicate keys (SCAN may return a key twice)', () => {
    const { patterns } = inferPatterns([...range(5, (i) => `k:${i}`), 'k:1', 'k:2']);
    expect(patterns[0]?.keys).toHaveLength(5);
  });
});

describe('familyName', () => {
  it('joins the literal parts', () => {
    expect(familyName({ parts: ['demo', 'account-limits', null] })).toBe('demo-account-limits');
    expect(familyName({ parts: ['user', null, 'settings'] })).toBe('user-settings');
    expect(familyName({ parts: [null] })).toBe('keys');
    expect(familyName({ parts: ['@weird name!', null] })).toBe('weird-name');
  });
});
