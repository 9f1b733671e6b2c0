import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { rulesSchema, selectUsefulErrors, validateRulesSchema } from '../../../src/config/schema-validation.js';

type SchemaNode = Record<string, unknown>;

/** Every object schema in the tree, with its JSON pointer. */
function objectSchemas(node: unknown, pointer = '#'): [string, SchemaNode][] {
  if (node === null || typeof node !== 'object') return [];
  const out: [string, SchemaNode][] = [];
  const schema = node as SchemaNode;
  if (schema.type === 'object') out.push([pointer, schema]);
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'examples' || key === 'enum' || key === 'default' || key === 'const') continue;
    if (Array.isArray(value)) value.forEach((item, i) => out.push(...objectSchemas(item, `${pointer}/${key}/${i}`)));
    else out.push(...objectSchemas(value, `${pointer}/${key}`));
  }
  return out;
}

describe('rules/rules.schema.json', () => {
  const schema = rulesSchema();

  it('closes every object: unknown keys are errors', () => {
    const open = objectSchemas(schema).filter(([, s]) => s.additionalProperties === undefined || s.additionalProperties === true);
    expect(open.map(([pointer]) => pointer)).toEqual([]);
  });

  it('describes every property, so editors can show what it means', () => {
    const undocumented = objectSchemas(schema).flatMap(([pointer, s]) =>
      Object.entries((s.properties ?? {}) as Record<string, SchemaNode>)
        .filter(([, property]) => typeof property.description !== 'string' || property.description === '')
        .map(([name]) => `${pointer}/properties/${name}`),
    );
    expect(undocumented).toEqual([]);
  });

  it('lists the codecs and types the compiler knows', () => {
    const family = (schema.definitions as Record<string, SchemaNode>).family as SchemaNode;
    const properties = family.properties as Record<string, SchemaNode>;
    expect(properties.codec?.enum).toEqual(['json', 'raw', 'msgpack', 'gzip-json', 'brotli-json']);
    expect(properties.type?.enum).toEqual(['string', 'hash', 'list', 'set', 'zset']);
  });

  it('accepts a minimal rules file', () => {
    const data = { version: 1, sources: { main: { kind: 'postgres', url: 'postgres://x/y' } }, families: [{ name: 'a', pattern: 'a:{id}', source: 'main', ttl: '1s' }] };
    expect(validateRulesSchema(data)).toEqual([]);
  });

  it('accepts one normalizer or a list of them per field or path', () => {
    const normalize = { email: ['trim', 'lowercase'], price: 'decimal:2', 'items[].at': 'timestamp', day: ['date'], nick: ['trim', 'empty-as-null'] };
    const data = { version: 1, sources: { main: { kind: 'postgres', url: 'postgres://x/y' } }, families: [{ name: 'a', pattern: 'a:{id}', source: 'main', ttl: '1s', normalize }] };
    expect(validateRulesSchema(data)).toEqual([]);
  });

  it('names the entry of a list that is not a normalizer, once, without the string branch\'s noise', () => {
    const family = { name: 'a', pattern: 'a:{id}', source: 'main', ttl: '1s', normalize: { email: ['trim', 'strip'], at: 'timestmap', n: 3 } };
    const problems = validateRulesSchema({ version: 1, sources: { main: { kind: 'postgres', url: 'postgres://x/y' } }, families: [family] });
    expect(problems.map((p) => [p.path.join('.'), p.message])).toEqual([
      ['families.0.normalize.email.1', 'normalizer 2 for "email" must be one of lowercase, trim, number, decimal:N, timestamp, date, boolean, sorted, json, empty-as-null, got "strip"'],
      ['families.0.normalize.at', 'normalizer for "at" must be one of lowercase, trim, number, decimal:N, timestamp, date, boolean, sorted, json, empty-as-null, got "timestmap"; did you mean "timestamp"?'],
      ['families.0.normalize.n', 'normalizer for "n" must be a string or a list, got 3'],
    ]);
  });

  it('requires url for a database source and module for a module source, without if/then noise', () => {
    const problems = validateRulesSchema({ version: 1, sources: { a: { kind: 'mysql' }, b: { kind: 'module' } }, families: [{ name: 'a', pattern: 'a:{id}', source: 'a', ttl: '1s' }] });
    expect(problems.map((p) => [p.path.join('.'), p.message.split(':')[0]])).toEqual([
      ['sources.a', 'source "a" is missing required key "url"'],
      ['sources.b', 'source "b" is missing required key "module"'],
    ]);
  });

  it('asks only for the kind of a source without one, not for what the kind would need', () => {
    const problems = validateRulesSchema({ version: 1, sources: { a: { module: './a.js' } }, families: [{ name: 'a', pattern: 'a:{id}', source: 'a', ttl: '1s' }] });
    expect(problems.map((p) => p.message.split(':')[0])).toEqual(['source "a" is missing required key "kind"']);
  });
});

describe('selectUsefulErrors', () => {
  const ajv = new Ajv({ allErrors: true, verbose: true });
  const validate = ajv.compile({
    type: 'object',
    properties: {
      limit: { anyOf: [{ type: 'string', pattern: '^[0-9]+%$' }, { type: 'number', minimum: 0 }] },
    },
  });
  const errorsFor = (limit: unknown) => {
    validate({ limit });
    return selectUsefulErrors(validate.errors ?? []).map((e) => [e.keyword, e.params]);
  };

  it('keeps the errors of the branch whose type fits the value', () => {
    expect(errorsFor('50 percent')).toEqual([['pattern', { pattern: '^[0-9]+%$' }]]);
    expect(errorsFor(-1)).toEqual([['minimum', { comparison: '>=', limit: 0 }]]);
  });

  it('reports one type error naming every accepted type when no branch fits', () => {
    expect(errorsFor(true)).toEqual([['type', { type: ['string', 'number'] }]]);
  });
});
