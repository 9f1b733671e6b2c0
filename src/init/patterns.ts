/**
 * Key patterns inferred from a sample of key names.
 *
 * Pass 1 groups keys by their shape: the parts that look like ids (tokens.ts) become a hole, the
 * others stay literal (`user:42` and `user:43` share `user:*`). Within a group a hole whose value
 * never changes was no id after all (`v2` in `app:v2:user:42`) and is put back as literal text. A
 * group whose single hole varies becomes a pattern with one placeholder.
 *
 * Pass 2 looks at the keys pass 1 left as plain literals: when many share everything but their
 * last part (`user:alice`, `user:bob`), that last part is taken for an id too.
 *
 * Groups with too few keys, with several varying parts (multi-placeholder patterns are not
 * supported yet), or with braces (which a pattern cannot write) are reported, never proposed.
 */
import { idShape, isIdLike, splitKey, type IdShape } from './tokens.js';

/** A group needs at least this many keys (and two distinct ids) to become a pattern. */
export const MIN_PATTERN_KEYS = 5;

export interface InferredPattern {
  /** The key's parts with the placeholder as null, e.g. ['demo', 'user', null]. */
  parts: readonly (string | null)[];
  /** Text before and after the placeholder, e.g. `demo:user:` and ``. */
  prefix: string;
  suffix: string;
  /** Every key of the group, and the id each one holds, in the same order. */
  keys: readonly string[];
  ids: readonly string[];
  shape: IdShape;
  /** Found by pass 2: the ids do not look like ids, only their position says so. */
  byPosition: boolean;
}

export interface UncoveredGroup {
  /** The group's shape, holes written as `*`, e.g. `demo:user:*:sessions`. */
  shape: string;
  count: number;
  example: string;
  reason: string;
}

export interface PatternInference {
  patterns: InferredPattern[];
  uncovered: UncoveredGroup[];
}

const HOLE = null;

interface Group {
  parts: (string | null)[];
  keys: string[];
}

function groupBy(keys: readonly string[], shapeOf: (parts: string[]) => (string | null)[]): Group[] {
  const groups = new Map<string, Group>();
  for (const key of keys) {
    const parts = shapeOf(splitKey(key));
    const id = JSON.stringify(parts);
    let group = groups.get(id);
    if (group === undefined) {
      group = { parts, keys: [] };
      groups.set(id, group);
    }
    group.keys.push(key);
  }
  return [...groups.values()];
}

export function shapeText(parts: readonly (string | null)[]): string {
  return parts.map((p) => (p === HOLE ? '*' : p)).join(':');
}

function toPattern(parts: (string | null)[], keys: string[], hole: number, byPosition: boolean): InferredPattern {
  const ids = keys.map((key) => splitKey(key)[hole] as string);
  const before = parts.slice(0, hole) as string[];
  const after = parts.slice(hole + 1) as string[];
  return {
    parts,
    prefix: before.map((p) => `${p}:`).join(''),
    suffix: after.map((p) => `:${p}`).join(''),
    keys,
    ids,
    shape: idShape(ids),
    byPosition,
  };
}

/**
 * Resolves a pass-1 group: constant holes become literal again; one varying hole makes a
 * pattern; anything else is reported. Returns the literal keys left for pass 2.
 */
function resolveGroup(group: Group, minKeys: number, out: PatternInference, literals: string[]): void {
  const example = group.keys[0] as string;
  if (group.keys.length < minKeys && group.parts.includes(HOLE)) {
    // Too few keys to tell an id from a constant: reported with its id-like parts as holes.
    out.uncovered.push({ shape: shapeText(group.parts), count: group.keys.length, example, reason: `too few keys to propose a family (fewer than ${minKeys})` });
    return;
  }
  const split = group.keys.map(splitKey);
  const parts = [...group.parts];
  const varying: number[] = [];
  parts.forEach((part, i) => {
    if (part !== HOLE) return;
    const values = new Set(split.map((p) => p[i] as string));
    if (values.size === 1) parts[i] = split[0]?.[i] as string;
    else varying.push(i);
  });
  const [hole] = varying;
  if (hole === undefined) {
    literals.push(...group.keys);
    return;
  }
  const uncovered = (reason: string): void => {
    out.uncovered.push({ shape: shapeText(parts), count: group.keys.length, example, reason });
  };
  if (varying.length > 1) return uncovered(`${varying.length} parts vary; patterns with several placeholders are not proposed yet`);
  if (hasBraces(parts)) return uncovered('a pattern cannot write "{" or "}" as literal text');
  out.patterns.push(toPattern(parts, group.keys, hole, false));
}

function hasBraces(parts: readonly (string | null)[]): boolean {
  return parts.some((p) => p !== HOLE && /[{}]/.test(p));
}

/** Pass 2: literal keys that differ only in their last part. */
function resolveLiterals(literals: readonly string[], minKeys: number, out: PatternInference): void {
  const groups = groupBy(literals, (parts) => (parts.length < 2 ? parts : [...parts.slice(0, -1), HOLE]));
  for (const group of groups) {
    const hole = group.parts.indexOf(HOLE);
    const distinct = new Set(group.keys.map((k) => splitKey(k)[hole]));
    const example = group.keys[0] as string;
    if (hole === -1 || group.keys.length < minKeys || distinct.size < 2 || hasBraces(group.parts) || distinct.has('')) {
      const reason = group.keys.length === 1 ? 'a single key with no id in its name' : `too few keys to propose a family (fewer than ${minKeys})`;
      out.uncovered.push({ shape: group.keys.length === 1 ? example : shapeText(group.parts), count: group.keys.length, example, reason });
      continue;
    }
    out.patterns.push(toPattern(group.parts, group.keys, hole, true));
  }
}

/** Patterns (most keys first) and the groups of keys no pattern covers (most keys first). */
export function inferPatterns(keys: readonly string[], minKeys = MIN_PATTERN_KEYS): PatternInference {
  const unique = [...new Set(keys)];
  const out: PatternInference = { patterns: [], uncovered: [] };
  const literals: string[] = [];
  const groups = groupBy(unique, (parts) => parts.map((p) => (isIdLike(p) ? HOLE : p)));
  for (const group of groups) resolveGroup(group, minKeys, out, literals);
  resolveLiterals(literals, minKeys, out);
  out.patterns.sort((a, b) => b.keys.length - a.keys.length || a.prefix.localeCompare(b.prefix));
  out.uncovered.sort((a, b) => b.count - a.count || a.shape.localeCompare(b.shape));
  return out;
}

/** The pattern's text with its placeholder named, e.g. `demo:user:{id}`. */
export function patternText(pattern: Pick<InferredPattern, 'prefix' | 'suffix'>, placeholder: string): string {
  return `${pattern.prefix}{${placeholder}}${pattern.suffix}`;
}

/** A family name from the pattern's literal parts: `demo:user:{id}` → `demo-user`. */
export function familyName(pattern: Pick<InferredPattern, 'parts'>): string {
  const text = pattern.parts
    .filter((p): p is string => p !== HOLE)
    .join('-')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '');
  return text === '' ? 'keys' : text;
}
