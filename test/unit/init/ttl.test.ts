import { describe, expect, it } from 'vitest';
import { describeTtl, formatDuration, proposeTtl, roundUpTtlMs } from '../../../src/init/ttl.js';

describe('TTL inference', () => {
  it.each([
    [55_000, 60_000],
    [60_000, 60_000],
    [274_000, 300_000],
    [556_000, 600_000],
    [3_500_000, 3_600_000],
    [200, 1000],
    [9.5 * 86_400_000, 10 * 86_400_000],
  ])('rounds %d ms up to %d ms', (ms, rounded) => {
    expect(roundUpTtlMs(ms)).toBe(rounded);
  });

  it.each([
    [60_000, '60s'],
    [300_000, '300s'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [1500, '1500ms'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('takes the 95th percentile, so a few keys written with a longer expiry do not set the TTL', () => {
    const pttls = [...Array.from({ length: 200 }, (_, i) => 30_000 + i * 1300), 3_600_000, 3_590_000, -1, -1];
    const p = proposeTtl(pttls);
    expect(p.ttlMs).toBe(300_000);
    expect(p.above).toBe(2);
    expect(p.noExpiry).toBe(2);
    expect(describeTtl(p)).toMatch(/^guess: 95% of 202 sampled keys have at most \d+s left, rounded up; 2 have more \(up to 3600s\).*; 2 have no expiry$/);
  });

  it('uses the largest remaining TTL when few keys expire', () => {
    expect(proposeTtl([10_000, 50_000, 20_000]).ttlMs).toBe(60_000);
  });

  it('proposes a placeholder, marked for review, when no key expires', () => {
    const p = proposeTtl([-1, -1]);
    expect(p.ttlMs).toBe(3_600_000);
    expect(describeTtl(p)).toMatch(/^review: none of 2 sampled keys expires/);
  });
});
