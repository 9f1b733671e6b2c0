import { describe, expect, it } from 'vitest';
import { displayExcerpt, displayValue, formatBytes, MAX_EXCERPT_CHARS } from '../../../src/core/display.js';

describe('displayExcerpt', () => {
  it('leaves small values as displayValue shows them', () => {
    const value = { at: new Date(0), n: 12345678901234567890n, tags: ['a', 'b'] };
    expect(displayExcerpt(value)).toEqual(displayValue(value));
    expect(displayExcerpt('short')).toBe('short');
    expect(displayExcerpt('x'.repeat(MAX_EXCERPT_CHARS))).toBe('x'.repeat(MAX_EXCERPT_CHARS));
    expect(displayExcerpt(42)).toBe(42);
    expect(displayExcerpt(null)).toBeNull();
  });

  it('cuts a long string to at most MAX_EXCERPT_CHARS, saying it was cut and how large it was', () => {
    const shown = displayExcerpt(`head ${'x'.repeat(899_995)}`) as string;
    expect(shown.length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
    expect(shown).toMatch(/^head x+… \(cut, 900 kB\)$/);
  });

  it('is idempotent: an excerpt is not cut again', () => {
    const once = displayExcerpt('y'.repeat(10_000));
    expect(displayExcerpt(once)).toBe(once);
  });

  it('cuts a large array or object as its compact JSON text', () => {
    const shown = displayExcerpt(Array.from({ length: 100_000 }, (_, i) => i)) as string;
    expect(shown.startsWith('[0,1,2,3,')).toBe(true);
    expect(shown).toMatch(/… \(cut, 589 kB\)$/);
    expect(shown.length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
  });

  it('cuts UTF-8 bytes as text and never splits a surrogate pair', () => {
    expect(displayExcerpt(Buffer.from('é'.repeat(1000)))).toMatch(/^é+… \(cut, 2 kB\)$/);
    for (let pad = 0; pad < 4; pad++) {
      const shown = displayExcerpt(`${'a'.repeat(pad)}${'😀'.repeat(500)}`) as string;
      // A lone surrogate does not survive a UTF-8 round trip.
      expect(Buffer.from(shown, 'utf8').toString('utf8')).toBe(shown);
    }
  });

  it('survives a cycle', () => {
    const cyclic: Record<string, unknown> = { pad: 'p'.repeat(300) };
    cyclic['self'] = cyclic;
    expect(displayExcerpt(cyclic)).toMatch(/^\{"pad":"p+… \(cut, \d+ B\)$/);
  });
});

describe('formatBytes', () => {
  it('uses decimal units with one decimal under 10', () => {
    expect([formatBytes(900), formatBytes(5_000), formatBytes(9_500), formatBytes(900_000), formatBytes(1_370_000_000)]).toEqual(['900 B', '5 kB', '9.5 kB', '900 kB', '1.4 GB']);
  });
});
