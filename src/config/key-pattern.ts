import type { KeyPattern } from '../core/rule.js';
import { idFromParts, idParts } from '../core/source-key.js';

/**
 * Key patterns: literal text around one or more `{name}` placeholders, like `user:{id}` or
 * `tenant:{tenant}:user:{id}`.
 *
 * A placeholder matches ONE OR MORE characters other than ':'. Key schemes use ':' as the
 * separator, so `user:{id}` must not swallow `user:1:settings` (which belongs to a different
 * family, `user:{id}:settings`), and an empty id is never a real row. Two placeholders must be
 * separated by text holding a ':': then a key splits into its parts in exactly one way (with
 * `{a}-{b}`, `x-y-z` could be (x-y, z) or (x, y-z), and a wrong split reads the wrong row).
 * Braces are reserved for placeholders; a pattern cannot match a literal '{' or '}'.
 */

/** A pattern split around its placeholders: `literals` has one more entry than `placeholders`. */
export interface PatternParts {
  literals: string[];
  placeholders: string[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIKE = 'like user:{id} or tenant:{tenant}:user:{id}';

/** Thrown by compilePattern; the message says what is wrong and what was expected. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

/** Splits a pattern, or returns a sentence saying why it is not a valid pattern. */
export function parsePattern(pattern: string): PatternParts | { problem: string } {
  const literals: string[] = [];
  const placeholders: string[] = [];
  let open = -1;
  let literalStart = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{') {
      if (open !== -1) {
        return { problem: `pattern "${pattern}" has a "{" inside a placeholder at position ${i + 1}; write placeholders ${LIKE}` };
      }
      open = i;
      literals.push(pattern.slice(literalStart, i));
    } else if (ch === '}') {
      if (open === -1) {
        return { problem: `pattern "${pattern}" has a "}" without a matching "{" at position ${i + 1}; write placeholders ${LIKE}` };
      }
      placeholders.push(pattern.slice(open + 1, i));
      open = -1;
      literalStart = i + 1;
    }
  }
  if (open !== -1) {
    return { problem: `pattern "${pattern}" has a "{" without a closing "}" at position ${open + 1}; write placeholders ${LIKE}` };
  }
  literals.push(pattern.slice(literalStart));
  if (placeholders.length === 0) {
    return { problem: `pattern "${pattern}" has no {placeholder}; add one for the id the loader looks up, like user:{id}` };
  }
  for (const name of placeholders) {
    if (name === '') {
      return { problem: `pattern "${pattern}" has an empty placeholder "{}"; name it after the id it captures, like user:{id}` };
    }
    if (!IDENTIFIER.test(name)) {
      return { problem: `placeholder "{${name}}" in pattern "${pattern}" must be named with letters, digits and '_' (not starting with a digit), like {id}` };
    }
  }
  const repeated = placeholders.find((name, i) => placeholders.indexOf(name) !== i);
  if (repeated !== undefined) {
    return { problem: `pattern "${pattern}" uses the placeholder {${repeated}} twice; give each placeholder its own name, ${LIKE}` };
  }
  for (let i = 1; i < placeholders.length; i++) {
    if (!(literals[i] as string).includes(':')) {
      const between = literals[i] === '' ? 'nothing' : `"${literals[i]}"`;
      return {
        problem:
          `placeholders {${placeholders[i - 1]}} and {${placeholders[i]}} in pattern "${pattern}" are separated by ${between}; ` +
          `separate them with text holding a ":", ${LIKE}, so that each key splits into its parts one way`,
      };
    }
  }
  return { literals, placeholders };
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
  const { literals, placeholders } = parts;
  const regex = new RegExp(`^${literals.map(escapeRegExp).join('([^:]+)')}$`);
  return {
    source: pattern,
    glob: literals.map(escapeGlob).join('*'),
    placeholders,
    match(key: string): string | undefined {
      const found = regex.exec(key);
      return found === null ? undefined : idFromParts(found.slice(1));
    },
    render(id: string): string {
      const values = idParts(id, placeholders.length);
      return literals.reduce((key, literal, i) => (i === 0 ? literal : `${key}${values[i - 1] as string}${literal}`), '');
    },
  };
}
