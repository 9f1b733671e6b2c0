/**
 * `${VAR}` and `${VAR:-default}` in rules-file strings, so secrets such as database passwords
 * stay in the environment instead of the file. `$${` is a literal `${`. Like the shell, the
 * default applies when the variable is unset or empty. A variable without a default that is
 * unset is an error, never an empty string: a blank URL would fail later with a confusing message.
 */

export interface InterpolationProblem {
  /** Offset of the `${` in the input string, to point at it. */
  index: number;
  /** The reference as written, e.g. `${DATABASE_URL}`. */
  reference: string;
  message: string;
}

export type InterpolationResult = { value: string; problems: readonly [] } | { value: undefined; problems: readonly InterpolationProblem[] };

const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/;

/** Replaces every reference in `text`; reports every unset or malformed reference. */
export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  if (!text.includes('${')) return { value: text, problems: [] };
  const problems: InterpolationProblem[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('$', i);
    if (start === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    if (text.startsWith('$${', start)) {
      out += '${';
      i = start + 3;
      continue;
    }
    if (!text.startsWith('${', start)) {
      out += '$';
      i = start + 1;
      continue;
    }
    const match = REFERENCE.exec(text.slice(start));
    if (match === null) {
      const close = text.indexOf('}', start);
      const reference = close === -1 ? text.slice(start) : text.slice(start, close + 1);
      problems.push({
        index: start,
        reference,
        message: `malformed variable reference "${reference}"; write \${NAME} or \${NAME:-default} (NAME: letters, digits, '_'), or $\${ for a literal \${`,
      });
      i = close === -1 ? text.length : close + 1;
      continue;
    }
    const [reference, name, fallback] = match as unknown as [string, string, string | undefined];
    // (`$${` in a default is an escaped literal, kept verbatim as before.)
    if (fallback !== undefined && /(^|[^$])\$\{/.test(fallback)) {
      // `${A:-${B}}` used to end at the first "}" and leave a stray "}" in the value ("300s}").
      const end = closingBrace(text, start);
      const whole = text.slice(start, end + 1);
      problems.push({
        index: start,
        reference: whole,
        message: `nested variable reference "${whole}" is not supported; a default is plain text: write \${${name}:-value}`,
      });
      i = end + 1;
      continue;
    }
    const value = env[name];
    if (fallback !== undefined && (value === undefined || value === '')) {
      out += fallback;
    } else if (value === undefined) {
      problems.push({
        index: start,
        reference,
        message: `environment variable ${name} is not set; set it, or give a default like \${${name}:-value}`,
      });
    } else {
      out += value;
    }
    i = start + reference.length;
  }
  return problems.length === 0 ? { value: out, problems: [] } : { value: undefined, problems };
}

/** The "}" that closes the `${` at `start`, counting nested `${`; the last index when unclosed. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let k = start; k < text.length; k++) {
    if (text.startsWith('${', k)) {
      depth++;
      k++;
    } else if (text[k] === '}' && --depth === 0) {
      return k;
    }
  }
  return text.length - 1;
}
