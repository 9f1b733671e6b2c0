import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SourceKindDescriptor } from '../../../src/sources/descriptor.js';
import { kindOfScheme, SOURCE_KIND_NAMES, SOURCE_KINDS } from '../../../src/sources/registry.js';

/** The parts of a descriptor; a kind that lacks one says so with null, never by leaving it out. */
const PARTS = ['url', 'rules', 'sql', 'tls', 'columnTypes', 'createLoader', 'introspection'] as const satisfies readonly (keyof SourceKindDescriptor)[];

describe('source kind registry', () => {
  it.each(SOURCE_KIND_NAMES)('kind %s provides every descriptor part, each well formed or explicitly null', (kind) => {
    const descriptor: SourceKindDescriptor = SOURCE_KINDS[kind];
    expect(Object.keys(descriptor).sort()).toEqual([...PARTS].sort());
    for (const part of PARTS) expect(descriptor[part], `${kind}.${part}`).not.toBeUndefined();
    expect(typeof descriptor.createLoader).toBe('function');
    expect(typeof descriptor.rules.needsQueryOrTable).toBe('boolean');
    expect(typeof descriptor.rules.queryProblems).toBe('function');
    for (const hook of ['readOnlyQueryProblem', 'settingsProblems'] as const) {
      expect(descriptor.rules[hook] === null || typeof descriptor.rules[hook] === 'function', `${kind}.rules.${hook}`).toBe(true);
    }
    // A kind whose loader runs SQL it is given holds that SQL to a read-only policy.
    if (descriptor.rules.needsQueryOrTable) expect(descriptor.rules.readOnlyQueryProblem).not.toBeNull();
    if (descriptor.url !== null) {
      expect(descriptor.url.schemes.length).toBeGreaterThan(0);
      for (const scheme of descriptor.url.schemes) expect(scheme).toMatch(/^[a-z][a-z0-9+.-]*:$/);
      expect(descriptor.url.schemes).toContain(new URL(descriptor.url.example).protocol);
    }
    if (descriptor.sql !== null) {
      expect(descriptor.sql.quoteIdentifier('a')).not.toBe('a');
      expect(descriptor.sql.batchCondition('k')).toContain('k');
    }
    if (descriptor.tls !== null) {
      expect(descriptor.tls.noTlsHint).not.toBe('');
      expect(descriptor.tls.untrustedHint).toMatch(/--insecure/);
    }
    if (descriptor.columnTypes !== null) expect(descriptor.columnTypes.category('date')).toBe('date');
    if (descriptor.introspection !== null) {
      expect(typeof descriptor.introspection.introspect).toBe('function');
      expect(descriptor.introspection.namespace).not.toBe('');
      expect(descriptor.introspection.failureHint).toMatch(/^init reads /);
      // init writes a proposal's SQL and connects by URL: an introspected kind needs both.
      expect(descriptor.sql).not.toBeNull();
      expect(descriptor.url).not.toBeNull();
    }
  });

  it('no URL scheme belongs to two kinds, and each resolves to its kind', () => {
    const schemes = SOURCE_KIND_NAMES.flatMap((kind) => (SOURCE_KINDS[kind].url?.schemes ?? []).map((scheme) => [scheme, kind] as const));
    expect(new Set(schemes.map(([scheme]) => scheme)).size).toBe(schemes.length);
    for (const [scheme, kind] of schemes) expect(kindOfScheme(scheme.toUpperCase())).toBe(kind);
    expect(kindOfScheme('redis:')).toBeUndefined();
  });

  it('the rules schema lists exactly the registered kinds', async () => {
    const schema = JSON.parse(await readFile(new URL('../../../rules/rules.schema.json', import.meta.url), 'utf8')) as unknown;
    const enums: string[][] = [];
    JSON.stringify(schema, (key, value: unknown) => {
      if (key === 'kind' && typeof value === 'object' && value !== null && Array.isArray((value as { enum?: unknown }).enum)) enums.push((value as { enum: string[] }).enum);
      return value;
    });
    expect(enums).toEqual([[...SOURCE_KIND_NAMES]]);
  });
});
