import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/verdict.js';
import { findingToJson, toJsonValue } from '../../../src/core/report-document/index.js';

describe('toJsonValue', () => {
  it('writes exact numbers as their decimal text instead of throwing or rounding', () => {
    expect(toJsonValue(12345678901234567890n)).toBe('12345678901234567890');
    expect(toJsonValue(new LosslessNumber('12345678901234567890.5'))).toBe('12345678901234567890.5');
  });

  it('writes dates as ISO strings and keeps non-finite numbers distinguishable from null', () => {
    expect(toJsonValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000Z');
    expect(toJsonValue(new Date(Number.NaN))).toBe('Invalid Date');
    expect(toJsonValue(Number.NaN)).toBe('NaN');
    expect(toJsonValue(-Infinity)).toBe('-Infinity');
  });

  it('converts nested containers, bytes, maps and sets', () => {
    const value = { a: [1n, undefined, new Date(0)], m: new Map([['k', 2n]]), s: new Set(['x']), b: Buffer.from('hi'), skip: undefined };
    expect(toJsonValue(value)).toEqual({ a: ['1', null, '1970-01-01T00:00:00.000Z'], m: { k: '2' }, s: ['x'], b: 'hi' });
  });

  it('survives cycles but writes a shared object twice', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic['self'] = cyclic;
    expect(toJsonValue(cyclic)).toEqual({ shared: { n: 1 }, again: { n: 1 }, self: '[Circular]' });
  });
});

describe('findingToJson', () => {
  it('writes the contract fields in order, omitting undefined ones and the internal step', () => {
    const f: Finding = {
      key: 'user:42',
      family: 'user-profile',
      verdict: 'divergent',
      reason: 'cache-ahead',
      step: 5,
      cacheVersion: 5n,
      sourceVersion: new LosslessNumber('4'),
      diff: [{ path: 'at', cache: new Date(0), source: undefined }],
      detail: 'note',
    };
    const json = findingToJson(f);
    expect(Object.keys(json)).toEqual(['key', 'family', 'verdict', 'reason', 'cacheVersion', 'sourceVersion', 'diff', 'detail']);
    expect(json).toEqual({
      key: 'user:42',
      family: 'user-profile',
      verdict: 'divergent',
      reason: 'cache-ahead',
      cacheVersion: '5',
      sourceVersion: '4',
      diff: [{ path: 'at', cache: '1970-01-01T00:00:00.000Z', source: null }],
      detail: 'note',
    });
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it('keeps reason absent for a match even if one was set', () => {
    const f = { key: 'k', family: 'f', verdict: 'match', reason: 'converged', step: 4, pttlMs: 0, diff: [] } as Finding;
    const json = findingToJson(f);
    expect(json).not.toHaveProperty('reason');
    expect(json).toEqual({ key: 'k', family: 'f', verdict: 'match', pttlMs: 0, diff: [] });
  });

  it('keeps a null version, which is a value, not an absence', () => {
    const f: Finding = { key: 'k', family: 'f', verdict: 'divergent', reason: 'orphan', step: 3, cacheVersion: null, diff: [] };
    expect(findingToJson(f)).toHaveProperty('cacheVersion', null);
  });
});
