import { describe, expect, it } from 'vitest';
import { closestMatch } from '../../../src/config/suggest.js';

describe('closestMatch', () => {
  const keys = ['name', 'pattern', 'ttl', 'maxStaleness', 'clockSkew', 'updatedAt'];

  it.each([
    ['tll', 'ttl'],
    ['patern', 'pattern'],
    ['maxstaleness', 'maxStaleness'],
    ['updated_at', 'updatedAt'],
    ['naem', 'name'],
  ])('suggests %s -> %s', (typo, expected) => {
    expect(closestMatch(typo, keys)).toBe(expected);
  });

  it('suggests nothing for a word that is not close to any candidate', () => {
    expect(closestMatch('colour', keys)).toBeUndefined();
    expect(closestMatch('x', keys)).toBeUndefined();
  });
});
