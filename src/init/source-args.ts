/**
 * `--source NAME=URL`: the source's name in the rules file, its kind from the URL's scheme, and
 * how its URL is written into the proposal without the password.
 */
import { UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactUrl, urlProblem } from '../util/redact-url.js';
import { kindOfScheme, SOURCE_KINDS } from '../sources/registry.js';
import type { SourceKindName } from './catalog.js';
import { introspectableKinds, introspectionOf } from './introspection.js';

export interface SourceArg {
  name: string;
  kind: SourceKindName;
  /** The URL as given, password included: used to connect, never printed or written. */
  url: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const EXAMPLE = 'e.g. --source main=postgres://user@host:5432/app or --source shop=mysql://user@host:3306/shop';

export function parseSourceArg(text: string): SourceArg {
  const eq = text.indexOf('=');
  if (eq === -1) {
    throw new UsageError(`--source ${redactUrl(text)}: expected NAME=URL`, { hint: EXAMPLE });
  }
  const name = text.slice(0, eq).trim();
  const url = text.slice(eq + 1).trim();
  if (!NAME.test(name)) {
    throw new UsageError(`--source ${name === '' ? '(no name)' : `"${name}"`}=...: the name must start with a letter or digit and hold only letters, digits, '_', '.' and '-'`, {
      hint: EXAMPLE,
    });
  }
  const problem = urlProblem(url);
  if (problem !== undefined) throw new UsageError(`--source ${name}=${redactUrl(url)}: the URL ${problem}`, { hint: `${PERCENT_ENCODE_HINT}; ${EXAMPLE}` });
  const parsed = new URL(url);
  const kind = kindOfScheme(parsed.protocol);
  if (kind === undefined) {
    const schemes = introspectableKinds().flatMap((k) => SOURCE_KINDS[k].url?.schemes ?? []);
    throw new UsageError(`--source ${name}=${redactUrl(url)}: unsupported scheme "${parsed.protocol}"; expected ${schemes.map((s) => `${s}//`).join(', ')}`, {
      hint: EXAMPLE,
    });
  }
  // Refused here, before any connection: a kind init cannot read, or a URL it cannot use.
  const unusable = introspectionOf({ name, kind }).urlProblem(parsed, name);
  if (unusable !== undefined) throw new UsageError(`--source ${name}=${redactUrl(url)} ${unusable.problem}`, { hint: unusable.hint });
  return { name, kind, url };
}

/** Every --source, parsed; names must be distinct and at least one is needed. */
export function parseSourceArgs(texts: readonly string[]): SourceArg[] {
  if (texts.length === 0) {
    throw new UsageError('init needs at least one --source NAME=URL: the database(s) the cache is copied from', { hint: EXAMPLE });
  }
  const out = texts.map(parseSourceArg);
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) throw new UsageError(`--source ${s.name} is given twice; give each source its own name`);
    seen.add(s.name);
  }
  return out;
}

/** The environment variable a source's full URL can come from: `main` → MAIN_DATABASE_URL. */
export function urlVariable(name: string): string {
  const base = name.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return `${/^[0-9]/.test(base) || base === '' ? `S_${base}` : base}_DATABASE_URL`;
}

/**
 * The URL as the rules file writes it. Without a password, as given (a literal `${` escaped).
 * With one, `${VAR:-url without the password}`: the file validates as is, and the real URL
 * comes from the environment, as the password must.
 */
export function fileUrl(source: SourceArg): { text: string; variable?: string } {
  const parsed = new URL(source.url);
  const secretParams = [...parsed.searchParams.keys()].filter((k) => /pass|secret|token/i.test(k));
  if (parsed.password === '' && secretParams.length === 0) return { text: source.url.replaceAll('${', () => '$${') };
  parsed.password = '';
  for (const k of secretParams) parsed.searchParams.delete(k);
  const variable = urlVariable(source.name);
  // The default may not hold "}" (it would end the reference early).
  const fallback = parsed.toString().replaceAll('}', '%7D').replaceAll('${', () => '$%7B');
  return { text: `\${${variable}:-${fallback}}`, variable };
}
