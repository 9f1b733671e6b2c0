/**
 * The one redaction mechanism: what a report (diff.ts, for every format) or `explain` may show of
 * a value whose family lists `redact:` paths. Paths are written as diffs name them (`email`,
 * `address.street`, `tags[1]`, `meta["a.b"]`); `[]` stands for every element (`items[].card`).
 *
 * Comparison always uses the real values (a redacted field still makes a key divergent); only what
 * is shown is masked, and masking happens before a value is turned into anything printable, so no
 * formatter, excerpt or message can reach the secret.
 */
import { isLosslessNumber } from 'lossless-json';
import { setField } from './json-text.js';
import { REDACTED } from './verdict.js';

export type Shape = 'object' | 'array';

/** `items[3].card` → `items[].card`: a concrete path as a `[]` redact entry names it. */
function genericPath(path: string): string {
  return path.includes('[') ? path.replace(/\[\d+\]/g, '[]') : path;
}

/** True when `path` itself is redacted: everything at it is masked, sub-field names included. */
export function isRedactedPath(redact: readonly string[], path: string): boolean {
  if (redact.length === 0) return false;
  if (redact.includes(path)) return true;
  const generic = genericPath(path);
  return generic !== path && redact.includes(generic);
}

/**
 * The shapes a value at `path` must have for a redacted path under it to be found where it is
 * expected: `object` for `path.key` or `path["key"]`, `array` for `path[]` or `path[3]`. Empty when
 * nothing under `path` is redacted.
 */
function shapesBelow(redact: readonly string[], path: string): Set<Shape> {
  const shapes = new Set<Shape>();
  if (redact.length === 0) return shapes;
  const generic = genericPath(path);
  for (const entry of redact) {
    for (const prefix of generic === path ? [path] : [path, generic]) {
      if (entry.length <= prefix.length || !entry.startsWith(prefix)) continue;
      const next = entry[prefix.length];
      const after = entry[prefix.length + 1];
      if (next === '.') shapes.add('object');
      else if (next === '[') shapes.add(after === '"' ? 'object' : 'array');
    }
  }
  return shapes;
}

/**
 * Whether a diff may name the members of a `shape` value at `path`: not when a redacted path lies
 * under it but the value has another shape (the members would be the secret in another form).
 */
export function mayDescend(redact: readonly string[], path: string, shape: Shape): boolean {
  if (redact.length === 0) return true;
  const shapes = shapesBelow(redact, path);
  return shapes.size === 0 || shapes.has(shape);
}

function shapeOf(value: unknown): Shape | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return 'array';
  // Values that display as text or numbers: one could be the secret itself (a card number cached
  // as a string where an object was expected), so they never count as an object to look into.
  if (value instanceof Date || value instanceof Uint8Array || value instanceof Map || value instanceof Set || isLosslessNumber(value)) return undefined;
  return 'object';
}

/** The diff path of member `key` of the value at `path`: `a.b`, or `a["b.c"]` when the key needs quoting. */
export function childPath(path: string, key: string): string {
  return key !== '' && !/[.[\]"]/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * `value` (found at `path`) with every redacted part replaced by REDACTED, before any display.
 * Under a redacted path the value of the expected shape is copied shallowly with the redacted
 * members masked; a value of another shape (a string, a number, an array where an object was
 * expected...) is masked whole, since it may hold the secret in another form (`"1 Secret St"`
 * where `{street: "1 Secret St"}` was expected). null and absent are shown as they are: they hold
 * nothing. Parts with nothing redacted under them are the very same objects, so an unredacted
 * value costs nothing.
 */
export function redactValue(redact: readonly string[], path: string, value: unknown): unknown {
  if (redact.length === 0) return value;
  if (isRedactedPath(redact, path)) return REDACTED;
  const shapes = shapesBelow(redact, path);
  if (shapes.size === 0 || value === null || value === undefined) return value;
  const shape = shapeOf(value);
  if (shape === undefined || !shapes.has(shape)) return REDACTED;
  if (shape === 'array') return (value as readonly unknown[]).map((item, i) => redactValue(redact, `${path}[${i}]`, item));
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    setField(out, key, redactValue(redact, childPath(path, key), member));
  }
  return out;
}
