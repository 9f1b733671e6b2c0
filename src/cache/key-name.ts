import { isUtf8 } from 'node:buffer';
import { isTerminalUnsafe } from '../util/terminal-unsafe.js';

/**
 * Key names as users see them, and back.
 *
 * One rule for every key, text or binary: the key's UTF-8 text, except that every backslash, every
 * byte that is not part of valid UTF-8, and every character a terminal may act on instead of
 * printing (see `isHidden`) is written `\xNN`, one escape per byte. A backslash in the display
 * therefore always starts an escape, so the display is injective and `parseDisplayedKey` reads it
 * back to the exact bytes: the binary key `user:` + 0xff shows `user:\xff`, and the text key
 * spelled `user:\xff` shows `user:\x5cxff`. Printable non-ASCII text (`user:é`) stays readable.
 */

/**
 * Code points shown as escapes: those a terminal may act on (the set the reports' escapeControl
 * guards against, so a displayed key passes through it unchanged), plus U+FFFE and U+FFFF, which
 * XML reports cannot carry.
 */
function isHidden(code: number): boolean {
  return isTerminalUnsafe(code) || code === 0xfffe || code === 0xffff;
}

/** Text that needs no escape at all: the common key, returned as decoded. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Surrogate halves are never hidden: the characters they make are above U+FFFF.
    if (code === 0x5c || isHidden(code)) return false;
  }
  return true;
}

function escapeByte(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (1 to 4), or 0 when the byte there does
 * not start one: the same bytes a fatal TextDecoder accepts (no overlong forms, no surrogates,
 * nothing above U+10FFFF).
 */
function sequenceLength(key: Buffer, i: number): number {
  const b0 = key[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => {
    const b = key[i + j];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** A key as reports and `explain` show it (the rule above); `parseDisplayedKey` is its inverse. */
export function displayKey(key: Buffer): string {
  if (isUtf8(key)) {
    const text = key.toString('utf8');
    if (isPlain(text)) return text;
  }
  let out = '';
  let i = 0;
  while (i < key.length) {
    const n = sequenceLength(key, i);
    if (n === 0) {
      out += escapeByte(key[i] as number);
      i += 1;
      continue;
    }
    const char = key.toString('utf8', i, i + n);
    const code = char.codePointAt(0) as number;
    if (code === 0x5c || isHidden(code)) {
      for (let j = i; j < i + n; j++) out += escapeByte(key[j] as number);
    } else {
      out += char;
    }
    i += n;
  }
  return out;
}

const ESCAPE = /\\x([0-9a-fA-F]{2})/g;

/**
 * The key bytes a displayed name stands for: each `\xNN` (either case) is that byte, everything
 * else its UTF-8 bytes. A backslash that does not start such an escape stands for itself, so a
 * name typed by hand (`explain 'dir:C:\tmp'`) still reads the text key it spells.
 */
export function parseDisplayedKey(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const found of text.matchAll(ESCAPE)) {
    const at = found.index;
    if (at > last) parts.push(Buffer.from(text.slice(last, at), 'utf8'));
    parts.push(Buffer.from([Number.parseInt(found[1] as string, 16)]));
    last = at + found[0].length;
  }
  if (last === 0) return Buffer.from(text, 'utf8');
  if (last < text.length) parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Whether a displayed name holds at least one `\xNN` escape (so it differs from its literal text). */
export function hasKeyEscape(text: string): boolean {
  return /\\x[0-9a-fA-F]{2}/.test(text);
}

/**
 * The text a family's pattern is matched against and its placeholders are captured from: a text
 * key's own UTF-8 text (so `user:{id}` captures `DOMAIN\alice` as the id the database holds, not
 * its display `DOMAIN\x5calice`), and a binary key's display (it has no text; its id never names a
 * text row, but the key is still claimed by its family and judged, not counted as unmatched).
 */
export function keyMatchText(key: Buffer): string {
  return isUtf8(key) ? key.toString('utf8') : displayKey(key);
}
