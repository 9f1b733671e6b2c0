import type { KeyPattern } from '../core/rule.js';

/**
 * Key patterns: literal text around exactly one `{name}` placeholder, like `user:{id}`.
 *
 * The placeholder matches ONE OR MORE characters other than ':'. Key schemes use ':' as the
 * separator, so `user:{id}` must not swallow `user:1:settings` (which belongs to a different
 * family, `user:{id}:settings`), and an empty id is never a real row. Braces are reserved for
 * the placeholder; a pattern cannot match a literal '{' or '}'.
 */

/** A pattern split around its placeholder. */
export interface PatternParts {
  prefix: string;
  placeholder: string;
  suffix: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Thrown by compilePattern; the message says what is wrong and what was expected. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

/** Splits a pattern, or returns a sentence saying why it is not a valid pattern. */
export function parsePattern(pattern: string): PatternParts | { problem: string } {
  const placeholders: { name: string; start: number; end: number }[] = [];
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{') {
      if (open !== -1) {
        return { problem: `pattern "${pattern}" has a "{" inside a placeholder at position ${i + 1}; write exactly one placeholder, like user:{id}` };
      }
      open = i;
    } else if (ch === '}') {
      if (open === -1) {
        return { problem: `pattern "${pattern}" has a "}" without a matching "{" at position ${i + 1}; write exactly one placeholder, like user:{id}` };
      }
      placeholders.push({ name: pattern.slice(open + 1, i), start: open, end: i + 1 });
      open = -1;
    }
  }
  if (open !== -1) {
    return { problem: `pattern "${pattern}" has a "{" without a closing "}" at position ${open + 1}; write exactly one placeholder, like user:{id}` };
  }
  const [first] = placeholders;
  if (first === undefined) {
    return { problem: `pattern "${pattern}" has no {placeholder}; add exactly one for the id the loader looks up, like user:{id}` };
  }
  if (placeholders.length > 1) {
    const list = placeholders.map((p) => `{${p.name}}`).join(', ');
    return { problem: `pattern "${pattern}" has ${placeholders.length} placeholders (${list}); exactly one is allowed, like user:{id}` };
  }
  if (first.name === '') {
    return { problem: `pattern "${pattern}" has an empty placeholder "{}"; name it after the id it captures, like user:{id}` };
  }
  if (!IDENTIFIER.test(first.name)) {
    return { problem: `placeholder "{${first.name}}" in pattern "${pattern}" must be named with letters, digits and '_' (not starting with a digit), like {id}` };
  }
  return { prefix: pattern.slice(0, first.start), placeholder: first.name, suffix: pattern.slice(first.end) };
}

/** Redis glob metacharacters; a backslash makes SCAN MATCH take the next one literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Compiles a pattern into its SCAN MATCH glob and a matcher. The glob's `*` also matches ':',
 * so SCAN returns a superset; the matcher (one precompiled RegExp, it runs for every scanned
 * key) applies the exact rule.
 */
export function compilePattern(pattern: string): KeyPattern {
  const parts = parsePattern(pattern);
  if ('problem' in parts) throw new PatternError(parts.problem);
  const regex = new RegExp(`^${escapeRegExp(parts.prefix)}([^:]+)${escapeRegExp(parts.suffix)}$`);
  return {
    source: pattern,
    glob: `${escapeGlob(parts.prefix)}*${escapeGlob(parts.suffix)}`,
    placeholder: parts.placeholder,
    match(key: string): string | undefined {
      return regex.exec(key)?.[1];
    },
    render(id: string): string {
      return `${parts.prefix}${id}${parts.suffix}`;
    },
  };
}
