import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { staleAgeSeconds, versionLag } from '../../../src/metrics/observations.js';

describe('versionLag', () => {
  it('is source minus cache for numeric versions, whatever the driver handed over', () => {
    expect(versionLag(3, 10)).toBe(7);
    expect(versionLag('3', 10n)).toBe(7);
    expect(versionLag(new LosslessNumber('41'), '42')).toBe(1);
    expect(versionLag(Buffer.from('5'), 6)).toBe(1);
    expect(versionLag(5, 5)).toBe(0);
    expect(versionLag(1.5, 2)).toBe(0.5);
  });

  it('subtracts integer versions exactly beyond 2^53', () => {
    expect(versionLag('18446744073709551000', '18446744073709551615')).toBe(615);
    expect(versionLag(9007199254740993n, 9007199254740994n)).toBe(1);
  });

  it('is undefined when the cache is ahead (that is cache-ahead, not lag)', () => {
    expect(versionLag(9, 8)).toBeUndefined();
  });

  it('is undefined unless both versions are numeric', () => {
    expect(versionLag(undefined, 3)).toBeUndefined();
    expect(versionLag(3, null)).toBeUndefined();
    expect(versionLag('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z')).toBeUndefined();
    expect(versionLag(new Date(0), new Date(1000))).toBeUndefined();
    expect(versionLag('v1', 'v2')).toBeUndefined();
    expect(versionLag(true, 1)).toBeUndefined();
    expect(versionLag(Number.NaN, 1)).toBeUndefined();
  });
});

describe('staleAgeSeconds', () => {
  it('converts milliseconds to seconds, the base unit', () => {
    expect(staleAgeSeconds(95_000)).toBe(95);
    expect(staleAgeSeconds(1)).toBe(0.001);
    expect(staleAgeSeconds(-5)).toBe(0);
  });

  it('is undefined without a known change time', () => {
    expect(staleAgeSeconds(undefined)).toBeUndefined();
    expect(staleAgeSeconds(Number.NaN)).toBeUndefined();
  });
});
