import { escapeControl, truncate } from './text-format.js';

/**
 * Code points XML 1.0 does not allow at all (its `Char` production), not even as character
 * references: C0 controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. A
 * well-formed surrogate pair is one code point (the `u` flag) and is allowed.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `\xNN` (or `\uNNNN` above 0xFF): the notation escapeControl and the cache reader already use. */
export function visibleEscape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Replaces every code point XML 1.0 forbids with its visible escape. Replaced rather than dropped
 * so that two keys differing only in such a character stay distinguishable in the report.
 */
export function escapeNonXmlChars(text: string): string {
  return text.replace(NOT_XML_CHAR, visibleEscape);
}

/**
 * Cache-derived text made inert for markup (Markdown, HTML, XML): terminal controls, line breaks,
 * bidi marks (escapeControl) and code points XML cannot carry become visible escapes, then the
 * text is cut to `max` code points. The result is one line that is valid XML character data once
 * the markup's own specials are escaped.
 */
export function markupText(text: string, max = Infinity): string {
  return truncate(escapeNonXmlChars(escapeControl(text)), max);
}

const HTML_SPECIALS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes the five HTML specials; safe in element content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_SPECIALS[c] ?? c);
}

/**
 * Plain Markdown text that renders exactly as given: every ASCII punctuation character is
 * backslash-escaped (CommonMark allows this for all of them), so nothing can open emphasis, a
 * link, raw HTML, an entity, a code span or a block, and a pipe cannot end a table cell.
 * Expects one line (markupText first).
 */
export function markdownText(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/**
 * A Markdown code span holding `text` literally: the fence is one backtick longer than the longest
 * backtick run inside, and padded with a space when the text starts or ends with a backtick or a
 * space (which the parser strips in pairs). Not for table cells: a pipe inside a code span still
 * splits a GFM table row, and escaping it would show the backslash elsewhere.
 * Expects one line (markupText first).
 */
export function markdownCode(text: string): string {
  if (text === '') return '` `';
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(text) && !/^ +$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
