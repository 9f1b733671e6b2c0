import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { toleranceFor, toleranceText, withinTolerance } from '../../../src/core/tolerance.js';

const abs = (amount: string) => ({ kind: 'absolute', amount }) as const;
const rel = (ratio: number) => ({ kind: 'relative', ratio }) as const;

describe('withinTolerance', () => {
  it('absolute: |cache − source| ≤ amount, exactly in decimal', () => {
    expect(withinTolerance(abs('0.5'), '10.4', 10)).toBe(true);
    expect(withinTolerance(abs('0.5'), '10.6', 10)).toBe(false);
    expect(withinTolerance(abs('2'), 98n, new LosslessNumber('100'))).toBe(true);
    expect(withinTolerance(abs('1'), '9007199254740993', new LosslessNumber('9007199254740995'))).toBe(false);
  });
  it('relative: ≤ ratio × |source|, the boundary included despite doubles', () => {
    expect(withinTolerance(rel(0.01), 297, 300)).toBe(true);
    expect(withinTolerance(rel(0.01), 303, 300)).toBe(true);
    expect(withinTolerance(rel(0.01), 303.01, 300)).toBe(false);
    expect(withinTolerance(rel(0.01), -99, -100)).toBe(true);
  });
  it('other writers: Python json.dumps floats, 17-digit doubles, a Redis score text', () => {
    expect(withinTolerance(abs('1'), 1000.0, '1001')).toBe(true);
    expect(withinTolerance(abs('0'), '0.30000000000000004', 0.1 + 0.2)).toBe(true);
    expect(withinTolerance(abs('1'), ' 12 ', '11')).toBe(true);
  });
  it('never makes text, null, infinities or NaN equal', () => {
    expect(withinTolerance(abs('100'), 'abc', 'abd')).toBe(false);
    expect(withinTolerance(abs('100'), null, 1)).toBe(false);
    expect(withinTolerance(abs('100'), Infinity, Infinity)).toBe(false);
    expect(withinTolerance(rel(1), 'inf', 1)).toBe(false);
  });
});

describe('toleranceFor and its text', () => {
  it('a field’s own entry wins over *', () => {
    const t = { '*': abs('5'), likes: rel(0.01) };
    expect(toleranceFor(t, 'likes')).toEqual(rel(0.01));
    expect(toleranceFor(t, 'views')).toEqual(abs('5'));
    expect(toleranceFor({ likes: abs('1') }, 'views')).toBeUndefined();
    expect(toleranceFor({ likes: abs('1') }, 'constructor')).toBeUndefined();
  });
  it('prints as written', () => {
    expect(toleranceText(rel(0.01))).toBe('1%');
    expect(toleranceText(abs('2.5'))).toBe('2.5');
  });
});
