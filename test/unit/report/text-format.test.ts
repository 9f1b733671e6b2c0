import { describe, expect, it } from 'vitest';
import { escapeControl, formatPercent, humanMs, humanPttl, renderValue, safeText, truncate } from '../../../src/report/text-format.js';

describe('escapeControl', () => {
  it('renders C0, DEL and C1 controls as \\xNN', () => {
    expect(escapeControl('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(escapeControl('\r\n\t\u0000\u007f\u009b')).toBe('\\x0d\\x0a\\x09\\x00\\x7f\\x9b');
  });

  it('renders bidi overrides and line separators as \\uNNNN', () => {
    expect(escapeControl('x\u202ey\u2028z\u2066')).toBe('x\\u202ey\\u2028z\\u2066');
  });

  it('leaves printable text, backslashes and astral characters alone', () => {
    const text = 'bin:\\xff ü 日本 🙂 "q"';
    expect(escapeControl(text)).toBe(text);
  });
});

describe('truncate and safeText', () => {
  it('cuts to the bound with an ellipsis, never splitting a surrogate pair', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
    expect(truncate('🙂🙂🙂🙂🙂', 3)).toBe('🙂🙂…');
  });

  it('escapes before cutting, so no raw control character survives the cut', () => {
    const out = safeText('\u001b'.repeat(100), 10);
    expect(out).not.toContain('\u001b');
    expect(Array.from(out)).toHaveLength(10);
  });
});

describe('humanMs', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [999.6, '1s'],
    [1_234, '1.2s'],
    [59_960, '1m'],
    [95_000, '1.6m'],
    [3_600_000, '1h'],
    [5_400_000, '1.5h'],
    [-2_000, '-2s'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanMs(ms)).toBe(text);
  });

  it('says - when unknown', () => {
    expect(humanMs(null)).toBe('-');
    expect(humanMs(undefined)).toBe('-');
    expect(humanMs(Number.NaN)).toBe('-');
  });

  it('says none for a key without expiry', () => {
    expect(humanPttl(-1)).toBe('none');
    expect(humanPttl(-2)).toBe('gone');
    expect(humanPttl(280_000)).toBe('4.7m');
  });
});

describe('formatPercent', () => {
  it('shows two decimals and never rounds an imperfect ratio up to 100%', () => {
    expect(formatPercent(1)).toBe('100.00%');
    expect(formatPercent(0.99999)).toBe('99.99%');
    expect(formatPercent(0.29)).toBe('29.00%');
    expect(formatPercent(0)).toBe('0.00%');
    expect(formatPercent(null)).toBe('-');
  });
});

describe('renderValue', () => {
  it('quotes strings so they differ from numbers and null', () => {
    expect(renderValue('1')).toBe('"1"');
    expect(renderValue(1)).toBe('1');
    expect(renderValue('null')).toBe('"null"');
    expect(renderValue(null)).toBe('null');
  });

  it('shows the redaction mask, absence, exact numbers and objects', () => {
    expect(renderValue('***')).toBe('***');
    expect(renderValue(undefined)).toBe('(absent)');
    expect(renderValue(10n ** 20n)).toBe('100000000000000000000');
    expect(renderValue({ a: [1, 2n] })).toBe('{"a":[1,"2"]}');
  });
});
