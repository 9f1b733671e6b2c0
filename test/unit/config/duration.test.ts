import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['1500ms', 1_500],
    ['300s', 300_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1.5s', 1_500],
    ['1.1s', 1_100],
    ['0.25h', 900_000],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['300', 'a bare number has no unit'],
    ['5 minutes', 'words are not units'],
    ['1h30m', 'compound durations are not supported'],
    ['-1s', 'negative'],
    [' 1s', 'surrounding space'],
    ['1S', 'units are lower case'],
    ['0.5ms', 'not a whole number of milliseconds'],
    ['.5s', 'no leading digit'],
    ['1e3s', 'exponent'],
    ['', 'empty'],
    ['99999999999999999999d', 'beyond safe integers'],
  ])('rejects %s (%s)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
