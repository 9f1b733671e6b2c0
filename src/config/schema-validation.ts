import { readFileSync } from 'node:fs';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import { NORMALIZER_NAMES } from './normalizer-spec.js';
import { rulesValidator } from './rules-ajv.js';
import { closestMatch } from './suggest.js';
import type { DataPath } from './yaml-document.js';

/**
 * JSON Schema validation of the rules data, with ajv's errors turned into sentences a user can
 * act on and pointed at the right YAML node. The schema file is the single source of truth for
 * the format: editors complete and check it through yaml-language-server, and this module
 * enforces the same file.
 */

/** Resolves from src/config and from dist/config alike: both sit two levels below the root. */
export const RULES_SCHEMA_URL = new URL('../../rules/rules.schema.json', import.meta.url);

export interface SchemaProblem {
  path: DataPath;
  /** Point at the key (unknown keys) or at the value. */
  on: 'key' | 'value';
  message: string;
}

let compiled: { schema: AnySchemaObject; validate: ValidateFunction } | undefined;

/** The rules schema, parsed once. */
export function rulesSchema(): AnySchemaObject {
  return compiledSchema().schema;
}

function compiledSchema(): { schema: AnySchemaObject; validate: ValidateFunction } {
  if (compiled === undefined) {
    const text = readFileSync(RULES_SCHEMA_URL, 'utf8');
    const schema = JSON.parse(text) as AnySchemaObject;
    compiled = { schema, validate: rulesValidator(text, schema) };
  }
  return compiled;
}

/** Every schema problem of `data`, one per location and cause. */
export function validateRulesSchema(data: unknown): SchemaProblem[] {
  const { validate } = compiledSchema();
  if (validate(data)) return [];
  const errors = selectUsefulErrors(validate.errors ?? []);
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = toDataPath(error.instancePath, data);
    const problem = describeError(error, path, errors);
    if (problem === undefined) continue;
    const id = `${problem.path.join('/')}|${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(problem);
  }
  return out;
}

/**
 * ajv reports every failed keyword, several of them noise for a human:
 * - `if` only says that `then`/`else` failed, which is reported on its own;
 * - anyOf/oneOf report each branch: keep the errors of the one branch whose type fits the value
 *   (that is the branch the user meant), or a single type error when none does.
 */
export function selectUsefulErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = errors.filter((e) => e.keyword !== 'if');
  for (const combinator of kept.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')) {
    const prefix = `${combinator.schemaPath}/`;
    // One schema (under additionalProperties, say) checks many values: keep to this value's errors.
    const within = (e: ErrorObject): boolean =>
      e.schemaPath.startsWith(prefix) && (e.instancePath === combinator.instancePath || e.instancePath.startsWith(`${combinator.instancePath}/`));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of kept) {
      if (!within(e)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    if (branches.size === 0) continue;
    const fitting = [...branches.values()].filter(
      (branch) => !branch.some((e) => e.keyword === 'type' && e.instancePath === combinator.instancePath),
    );
    const chosen = fitting.sort((a, b) => a.length - b.length)[0];
    kept = kept.filter((e) => e !== combinator && !within(e));
    if (chosen !== undefined) {
      kept.push(...chosen);
    } else {
      const types = [...branches.values()].flatMap((branch) =>
        branch.filter((e) => e.keyword === 'type').flatMap((e) => ([] as string[]).concat(e.params.type as string | string[])),
      );
      kept.push({ ...combinator, keyword: 'type', params: { type: [...new Set(types)] } });
    }
  }
  // then/else depend on a key (`kind`); when that key is itself missing, their demands mislead.
  const conditional = /\/(then|else)\//;
  const missingAt = new Set(kept.filter((e) => e.keyword === 'required' && !conditional.test(e.schemaPath)).map((e) => e.instancePath));
  kept = kept.filter((e) => !(conditional.test(e.schemaPath) && missingAt.has(e.instancePath)));
  // A misspelled key ("tll") also makes the real one ("ttl") missing: say it once, as a typo.
  const unknownKeys = kept.filter((e) => e.keyword === 'additionalProperties');
  return kept.filter((e) => {
    if (e.keyword !== 'required') return true;
    const missing = e.params.missingProperty as string;
    return !unknownKeys.some(
      (u) => u.instancePath === e.instancePath && closestMatch(u.params.additionalProperty as string, Object.keys(propertiesOf(u))) === missing,
    );
  });
}

/**
 * The object schema declaring the properties a `required` error is about: its parent, or for a
 * `required` inside `then`/`else`/`allOf`, the schema those sit in.
 */
function declaringSchema(error: ErrorObject): AnySchemaObject | undefined {
  if (error.parentSchema?.properties !== undefined) return error.parentSchema;
  const segments = error.schemaPath.replace(/^#\//, '').split('/').slice(0, -1);
  while (segments.length > 0 && /^(then|else|allOf|anyOf|oneOf|\d+)$/.test(segments[segments.length - 1] ?? '')) segments.pop();
  let node: unknown = compiledSchema().schema;
  for (const segment of segments) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return node !== null && typeof node === 'object' ? (node as AnySchemaObject) : undefined;
}

function propertiesOf(error: ErrorObject): Record<string, AnySchemaObject> {
  return (error.parentSchema?.properties ?? {}) as Record<string, AnySchemaObject>;
}

/** ajv's JSON pointer as a data path; array indexes become numbers. */
function toDataPath(pointer: string, data: unknown): DataPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** How a value is named in a message: `"ttl"`, `normalizer for "price"`, `entry 2 of "fields"`. */
function label(path: DataPath): string {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (last === undefined) return 'the rules file';
  if (typeof last === 'number' && path[path.length - 3] === 'normalize') return `normalizer ${last + 1} for "${String(parent)}"`;
  if (typeof last === 'number') return parent === 'families' ? `family entry ${last + 1}` : `entry ${last + 1} of "${String(parent)}"`;
  if (parent === 'normalize') return `normalizer for "${last}"`;
  if (parent === 'sources' && path.length === 2) return `source "${last}"`;
  return `"${last}"`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function firstSentence(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const end = text.search(/\.(\s|$)/);
  return end === -1 ? text : text.slice(0, end);
}

function isDurationSchema(error: ErrorObject): boolean {
  return error.schemaPath.startsWith('#/definitions/duration/');
}

/** A normalizer name in a family's `normalize:`, alone or in a list. */
function isNormalizerPath(path: DataPath): boolean {
  return path[0] === 'families' && path[2] === 'normalize' && (path.length === 4 || path.length === 5);
}

function describeError(error: ErrorObject, path: DataPath, all: readonly ErrorObject[]): SchemaProblem | undefined {
  const what = label(path);
  const got = describeValue(error.data);
  const parent = error.parentSchema ?? {};
  const at = (message: string, on: 'key' | 'value' = 'value', where: DataPath = path): SchemaProblem => ({ path: where, on, message });

  switch (error.keyword) {
    case 'type': {
      if (isDurationSchema(error)) {
        if (typeof error.data === 'number') {
          return at(`${what} must be a duration with a unit; add one to the bare number ${error.data}, like ${error.data}s or ${error.data}ms (units: ms, s, m, h, d)`);
        }
        return at(`${what} must be a duration like 300s (a number followed by ms, s, m, h or d), got ${got}`);
      }
      const types = ([] as string[]).concat(error.params.type as string | string[]);
      const expected = types.map((t) => TYPE_NAMES[t] ?? t).join(' or ');
      if (path.length === 0) return at(`the rules file must be a YAML mapping with version, sources and families, got ${got}`);
      if (path.length === 2 && path[0] === 'families') {
        return at(`${what} must be a mapping with name, pattern, source, ttl and so on, got ${got}`);
      }
      return at(`${what} must be ${expected}, got ${got}`);
    }
    case 'required': {
      const missing = error.params.missingProperty as string;
      const hint = firstSentence(declaringSchema(error)?.properties?.[missing]?.description);
      const where = path.length === 0 ? 'the rules file' : path[0] === 'families' && path.length === 2 ? 'the family' : what;
      if (missing === 'version' && path.length === 0) return at('missing required key "version"; add "version: 1" at the top of the file');
      return at(`${where} is missing required key "${missing}"${hint === undefined ? '' : `: ${hint}`}`);
    }
    case 'additionalProperties': {
      const key = error.params.additionalProperty as string;
      const allowed = Object.keys(propertiesOf(error));
      const suggestion = closestMatch(key, allowed);
      const typo = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return at(`unknown key "${key}"${typo} (expected one of: ${allowed.join(', ')})`, 'key', [...path, key]);
    }
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      const suggestion = typeof error.data === 'string' ? closestMatch(error.data, allowed) : undefined;
      const typo = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return at(`${what} must be one of: ${allowed.join(', ')} (got ${got})${typo}`);
    }
    case 'const': {
      if (path.length === 1 && path[0] === 'version') {
        return at(`"version" must be 1, the only rules file format this shadowcheck reads (got ${got})`);
      }
      return at(`${what} must be ${JSON.stringify(error.params.allowedValue)} (got ${got})`);
    }
    case 'pattern': {
      const custom = parent.patternErrorMessage as string | undefined;
      const suggestion = isNormalizerPath(path) && typeof error.data === 'string' ? closestMatch(error.data, NORMALIZER_NAMES) : undefined;
      const typo = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return at(`${what} ${custom ?? `must match ${String(error.params.pattern)}`}, got ${got}${typo}`);
    }
    case 'minLength':
      return at(`${what} must not be empty`);
    case 'minItems':
      if (path.length === 1 && path[0] === 'families') return at('"families" must list at least one key family');
      return at(`${what} must list at least ${String(error.params.limit)} ${error.params.limit === 1 ? 'entry' : 'entries'}; remove the key if you do not need it`);
    case 'minProperties':
      if (path.length === 1 && path[0] === 'sources') {
        return at('"sources" must define at least one source, like main: { kind: postgres, url: "${DATABASE_URL}" }');
      }
      return at(`${what} must not be empty`);
    case 'uniqueItems': {
      const items = Array.isArray(error.data) ? error.data : [];
      const duplicate = items[error.params.j as number];
      return at(`${what} lists ${describeValue(duplicate)} twice; remove the duplicate`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const low = parent.minimum as number | undefined;
      const high = parent.maximum as number | undefined;
      // Both bounds fail separately only for different values; report the range once.
      if (error.keyword === 'maximum' && low !== undefined && all.some((e) => e.keyword === 'minimum' && e.instancePath === error.instancePath)) {
        return undefined;
      }
      if (low !== undefined && high !== undefined) return at(`${what} must be between ${low} and ${high}, got ${got}`);
      return at(`${what} ${error.message ?? 'is out of range'}, got ${got}`);
    }
    default:
      return at(`${what} ${error.message ?? 'is invalid'}`);
  }
}
