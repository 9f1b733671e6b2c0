import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayKey, hasKeyEscape, keyMatchText, parseDisplayedKey } from '../../../src/cache/key-name.js';
import { markupText } from '../../../src/report/markup-text.js';
import { escapeControl } from '../../../src/report/text-format.js';

const bytes = (...b: number[]) => Buffer.from(b);
const text = (s: string) => Buffer.from(s, 'utf8');

/**
 * Key bytes biased toward what the display rule cares about: backslash, 'x' and hex digits (to
 * spell escapes literally), UTF-8 lead and continuation bytes, surrogate and overlong forms,
 * controls, so that two different keys with one display would be found if they existed.
 */
const interestingByte = fc.oneof(
  fc.constantFrom(0x5c, 0x78, 0x66, 0x35, 0x63, 0x3a, 0xff, 0xc3, 0xa9, 0xc0, 0xc2, 0x85, 0xed, 0xa0, 0x80, 0xe2, 0xae, 0xf0, 0x9f, 0x98, 0xf4, 0x90, 0x00, 0x09, 0x1b, 0x7f),
  fc.integer({ min: 0, max: 255 }),
);
const keyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
  fc.array(interestingByte, { maxLength: 12 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 12 }).map(text),
);

/** The rule, spelled independently for valid text: escape a backslash or a hidden code point byte by byte. */
function reference(s: string): string {
  let out = '';
  for (const char of s) {
    const code = char.codePointAt(0) as number;
    const hidden =
      code === 0x5c ||
      code <= 0x1f ||
      (code >= 0x7f && code <= 0x9f) ||
      [0x200e, 0x200f, 0x2028, 0x2029, 0xfeff, 0xfffe, 0xffff].includes(code) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069);
    out += hidden ? [...text(char)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('') : char;
  }
  return out;
}

describe('displayKey', () => {
  it('shows a text key as its text, printable non-ASCII included', () => {
    expect(displayKey(text('user:42'))).toBe('user:42');
    expect(displayKey(text('user:é'))).toBe('user:é');
    expect(displayKey(text('город:😀'))).toBe('город:😀');
    expect(displayKey(Buffer.alloc(0))).toBe('');
  });

  it('writes every backslash as \\x5c, so a text key spelling an escape is not the binary key', () => {
    expect(displayKey(text('user:\\xff'))).toBe('user:\\x5cxff');
    expect(displayKey(bytes(0x75, 0x73, 0x65, 0x72, 0x3a, 0xff))).toBe('user:\\xff');
    expect(displayKey(text('DOMAIN\\alice'))).toBe('DOMAIN\\x5calice');
  });

  it('writes bytes that are not UTF-8 as \\xNN and keeps the valid text around them readable', () => {
    expect(displayKey(Buffer.concat([text('é:'), bytes(0xff, 0x00)]))).toBe('é:\\xff\\x00');
    // Overlong, surrogate and beyond-U+10FFFF forms are not UTF-8, and truncated sequences neither.
    expect(displayKey(bytes(0xc0, 0x80))).toBe('\\xc0\\x80');
    expect(displayKey(bytes(0xed, 0xa0, 0x80))).toBe('\\xed\\xa0\\x80');
    expect(displayKey(bytes(0xf4, 0x90, 0x80, 0x80))).toBe('\\xf4\\x90\\x80\\x80');
    expect(displayKey(bytes(0xe2, 0x82))).toBe('\\xe2\\x82');
  });

  it('writes controls, DEL, C1 controls and bidi marks as the \\xNN of their bytes', () => {
    expect(displayKey(text('a\tb\nc\x1b[31m\x7f'))).toBe('a\\x09b\\x0ac\\x1b[31m\\x7f');
    expect(displayKey(text('a\u0085b'))).toBe('a\\xc2\\x85b');
    expect(displayKey(text('a\u202eb'))).toBe('a\\xe2\\x80\\xaeb');
  });

  it('spells valid text by the rule, also where the key as a whole is not UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 16 }), (s) => {
        expect(displayKey(text(s))).toBe(reference(s));
        expect(displayKey(Buffer.concat([text(s), bytes(0xff)]))).toBe(`${reference(s)}\\xff`);
      }),
    );
  });

  it('is read back to the exact bytes by parseDisplayedKey', () => {
    fc.assert(
      fc.property(keyBytes, (key) => {
        expect(parseDisplayedKey(displayKey(key)).equals(key)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives two different keys the same display', () => {
    fc.assert(
      fc.property(keyBytes, keyBytes, (a, b) => {
        if (!a.equals(b)) expect(displayKey(a)).not.toBe(displayKey(b));
      }),
      { numRuns: 2000 },
    );
    // The likeliest twin of a key: the text key spelled like its display (`\xff` as four characters).
    fc.assert(
      fc.property(keyBytes, (a) => {
        const twin = text(displayKey(a));
        if (!twin.equals(a)) expect(displayKey(twin)).not.toBe(displayKey(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a backslash only to start an escape, and nothing the reports would escape again', () => {
    fc.assert(
      fc.property(keyBytes, (key) => {
        const shown = displayKey(key);
        expect(shown.replace(/\\x[0-9a-f]{2}/g, '')).not.toContain('\\');
        expect(escapeControl(shown)).toBe(shown);
        expect(markupText(shown)).toBe(shown);
      }),
    );
  });
});

describe('parseDisplayedKey', () => {
  it('reads \\xNN in either case as one byte and everything else as its UTF-8 bytes', () => {
    expect(parseDisplayedKey('user:\\xff')).toEqual(bytes(0x75, 0x73, 0x65, 0x72, 0x3a, 0xff));
    expect(parseDisplayedKey('user:\\xFF')).toEqual(parseDisplayedKey('user:\\xff'));
    expect(parseDisplayedKey('user:\\x5cxff')).toEqual(text('user:\\xff'));
    expect(parseDisplayedKey('é\\x41')).toEqual(text('éA'));
  });

  it('reads a backslash that starts no escape as itself', () => {
    expect(parseDisplayedKey('dir:C:\\tmp')).toEqual(text('dir:C:\\tmp'));
    expect(parseDisplayedKey('a\\x4')).toEqual(text('a\\x4'));
    expect(parseDisplayedKey('a\\')).toEqual(text('a\\'));
  });

  it('tells an argument with escapes from one without', () => {
    expect(hasKeyEscape('user:\\xff')).toBe(true);
    expect(hasKeyEscape('user:42')).toBe(false);
    expect(hasKeyEscape('dir:C:\\tmp')).toBe(false);
  });
});

describe('keyMatchText', () => {
  it("is a text key's own text, so a pattern captures the id the database holds", () => {
    expect(keyMatchText(text('user:DOMAIN\\alice'))).toBe('user:DOMAIN\\alice');
    expect(keyMatchText(text('user:é'))).toBe('user:é');
  });

  it("is a binary key's display: no ':' is invented or lost, so its family still claims it", () => {
    expect(keyMatchText(bytes(0x75, 0x3a, 0xff, 0x3a, 0x31))).toBe('u:\\xff:1');
  });
});
