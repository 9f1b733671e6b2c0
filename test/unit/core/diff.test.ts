import { describe, expect, it } from 'vitest';
import { decodeCacheValue } from '../../../src/core/codecs.js';
import { diffPayloads } from '../../../src/core/diff.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { MAX_EXCERPT_CHARS } from '../../../src/core/display.js';
import { REDACTED } from '../../../src/core/verdict.js';

type DiffRule = Pick<FamilyRule, 'fields' | 'exclude' | 'normalize' | 'redact'>;

function rule(overrides: Partial<DiffRule> = {}): DiffRule {
  return { normalize: {}, redact: [], ...overrides };
}

function cachedJson(text: string): Record<string, unknown> {
  const result = decodeCacheValue({ type: 'string', codec: 'json' }, Buffer.from(text));
  if (!result.ok) throw new Error(result.error);
  return result.payload;
}

const MAY_1_10H = Date.UTC(2024, 4, 1, 10, 0, 0);

describe('diffPayloads: equal payloads', () => {
  it('is empty when every field is equal, driver mappings included', () => {
    const cache = cachedJson('{"id":9007199254740993,"price":10.5,"active":true,"at":"2024-05-01T10:00:00Z","extra":null}');
    const source = { id: '9007199254740993', price: '10.50', active: 1, at: new Date(MAY_1_10H) };
    expect(diffPayloads(rule(), cache, source)).toEqual([]);
  });

  it('applies a field normalizer to both sides before comparing', () => {
    const r = rule({ normalize: { email: [{ name: 'lowercase' }], price: [{ name: 'decimal', places: 2 }] } });
    expect(diffPayloads(r, { email: 'Ada@X.io', price: 2.005 }, { email: 'ada@x.io', price: '2.01' })).toEqual([]);
    expect(diffPayloads(rule(), { email: 'Ada@X.io' }, { email: 'ada@x.io' })).toHaveLength(1);
  });

  it('does not read Object.prototype for fields named like its members', () => {
    expect(diffPayloads(rule({ fields: ['constructor', 'toString'] }), {}, {})).toEqual([]);
    expect(diffPayloads(rule({ normalize: {} }), { constructor: 'x' }, { constructor: 'x' })).toEqual([]);
  });
});

describe('diffPayloads: which fields are compared', () => {
  const cache = { name: 'Ada', plan: 'basic', internal: 1, cacheOnly: 'c' };
  const source = { name: 'Ada', plan: 'pro', internal: 2, sourceOnly: 's' };

  it('compares only rule.fields when given', () => {
    expect(diffPayloads(rule({ fields: ['name', 'plan'] }), cache, source)).toEqual([{ path: 'plan', cache: 'basic', source: 'pro' }]);
  });

  it('compares the union of both sides minus rule.exclude', () => {
    expect(diffPayloads(rule({ exclude: ['internal'] }), cache, source)).toEqual([
      { path: 'plan', cache: 'basic', source: 'pro' },
      { path: 'cacheOnly', cache: 'c', source: null },
      { path: 'sourceOnly', cache: null, source: 's' },
    ]);
  });

  it('compares every field of either side by default', () => {
    expect(diffPayloads(rule(), cache, source).map((d) => d.path)).toEqual(['plan', 'internal', 'cacheOnly', 'sourceOnly']);
  });

  it('a listed field missing on one side differs from a value, not from null', () => {
    expect(diffPayloads(rule({ fields: ['a', 'b'] }), { a: null }, { b: 1 })).toEqual([{ path: 'b', cache: null, source: 1 }]);
  });
});

describe('diffPayloads: paths', () => {
  it('names the nested leaf that differs', () => {
    const cache = { address: { city: 'Paris', zip: '75001' }, tags: ['a', 'b', 'c'] };
    const source = { address: { zip: '75001', city: 'Lyon' }, tags: ['a', 'x', 'c'] };
    expect(diffPayloads(rule(), cache, source)).toEqual([
      { path: 'address.city', cache: 'Paris', source: 'Lyon' },
      { path: 'tags[1]', cache: 'b', source: 'x' },
    ]);
  });

  it('descends through arrays of objects and shows extra elements against null', () => {
    const cache = { items: [{ sku: 'A', qty: 1 }] };
    const source = { items: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] };
    expect(diffPayloads(rule(), cache, source)).toEqual([
      { path: 'items[0].qty', cache: 1, source: 2 },
      { path: 'items[1]', cache: null, source: { sku: 'B', qty: 1 } },
    ]);
  });

  it('quotes keys that would make a path ambiguous', () => {
    expect(diffPayloads(rule(), { m: { 'a.b': 1, '': 2 } }, { m: { 'a.b': 3, '': 2 } })).toEqual([{ path: 'm["a.b"]', cache: 1, source: 3 }]);
  });

  it('reports no nested path when the top-level values are equal as a whole', () => {
    expect(diffPayloads(rule(), { prefs: '{"a":1}' }, { prefs: { a: 1 } })).toEqual([]);
  });

  it('reports the whole value when it differs but no element does', () => {
    expect(diffPayloads(rule(), { tags: [1, null] }, { tags: [1] })).toEqual([{ path: 'tags', cache: [1, null], source: [1] }]);
  });

  it('shows normalized, display-ready values', () => {
    const r = rule({ normalize: { price: [{ name: 'decimal', places: 2 }], at: [{ name: 'timestamp' }] } });
    expect(diffPayloads(r, { price: 19.99, at: '2024-05-01T10:00:00Z', id: 1n }, { price: '19.98', at: new Date(MAY_1_10H + 1), id: 2n })).toEqual([
      { path: 'price', cache: '19.99', source: '19.98' },
      { path: 'at', cache: MAY_1_10H, source: MAY_1_10H + 1 },
      { path: 'id', cache: '1', source: '2' },
    ]);
  });

  it('shows big numbers exactly', () => {
    const cache = cachedJson('{"id":9007199254740993,"at":"2024-05-01T10:00:00Z"}');
    expect(diffPayloads(rule(), cache, { id: '9007199254740992', at: new Date(MAY_1_10H + 1) })).toEqual([
      { path: 'id', cache: '9007199254740993', source: '9007199254740992' },
      { path: 'at', cache: '2024-05-01T10:00:00Z', source: '2024-05-01T10:00:00.001Z' },
    ]);
  });
});

describe('diffPayloads: redaction', () => {
  it('masks a redacted field on both sides', () => {
    expect(diffPayloads(rule({ redact: ['email'] }), { email: 'a@x.io', plan: 'a' }, { email: 'b@x.io', plan: 'b' })).toEqual([
      { path: 'email', cache: REDACTED, source: REDACTED },
      { path: 'plan', cache: 'a', source: 'b' },
    ]);
  });

  it('masks everything under a redacted field, without naming its sub-fields', () => {
    const diffs = diffPayloads(rule({ redact: ['card'] }), { card: { number: '4111', exp: '01/30' } }, { card: { number: '4242', exp: '01/30' } });
    expect(diffs).toEqual([{ path: 'card', cache: REDACTED, source: REDACTED }]);
    expect(JSON.stringify(diffs)).not.toMatch(/4111|4242|number/);
  });

  it('masks a redacted field that is missing on one side', () => {
    expect(diffPayloads(rule({ redact: ['ssn'] }), {}, { ssn: '123-45-6789' })).toEqual([{ path: 'ssn', cache: REDACTED, source: REDACTED }]);
  });

  it('masks a redacted nested path only', () => {
    const r = rule({ redact: ['address.street'] });
    expect(diffPayloads(r, { address: { street: 'a', city: 'P' } }, { address: { street: 'b', city: 'L' } })).toEqual([
      { path: 'address.street', cache: REDACTED, source: REDACTED },
      { path: 'address.city', cache: 'P', source: 'L' },
    ]);
  });

  it('reports nothing for an equal redacted field', () => {
    expect(diffPayloads(rule({ redact: ['email'] }), { email: 'a@x.io' }, { email: 'a@x.io' })).toEqual([]);
  });
});

describe('diffPayloads: inputs', () => {
  it('leaves both payloads untouched', () => {
    const cache = { tags: ['b', 'a'], email: 'A@X' };
    const source = { tags: ['a', 'c'], email: 'a@x' };
    const r = rule({ normalize: { tags: [{ name: 'sorted' }], email: [{ name: 'lowercase' }] } });
    expect(diffPayloads(r, cache, source)).toEqual([{ path: 'tags[1]', cache: 'b', source: 'c' }]);
    expect(cache).toEqual({ tags: ['b', 'a'], email: 'A@X' });
    expect(source).toEqual({ tags: ['a', 'c'], email: 'a@x' });
  });
});

describe('diffPayloads: normalizers inside values', () => {
  const timestamp = { name: 'timestamp' } as const;
  const paths = (...written: string[]): Pick<FamilyRule, 'normalize' | 'normalizePaths' | 'redact'> => {
    const normalizePaths: Record<string, { path: string; steps: string[]; specs: (typeof timestamp)[] }[]> = {};
    for (const path of written) {
      const [field = '', ...rest] = path.replace(/\[\]/g, '.[]').split('.');
      (normalizePaths[field] ??= []).push({ path, steps: rest, specs: [timestamp] });
    }
    return { normalize: {}, normalizePaths, redact: [] };
  };
  const HOUR = 3_600_000;

  it('meta.at normalized on both sides makes a key match', () => {
    const cache = cachedJson('{"meta":{"at":1714557600,"by":"ada"}}');
    const source = { meta: { at: '2024-05-01T12:00:00+02:00', by: 'ada' } };
    expect(diffPayloads(rule(), cache, source)).toHaveLength(1);
    expect(diffPayloads(paths('meta.at'), cache, source)).toEqual([]);
  });

  it('a real difference under the path still shows, with its full path', () => {
    const cache = cachedJson('{"meta":{"at":"2024-05-01T10:00:00Z"}}');
    expect(diffPayloads(paths('meta.at'), cache, { meta: { at: new Date(MAY_1_10H + HOUR) } })).toEqual([
      { path: 'meta.at', cache: MAY_1_10H, source: MAY_1_10H + HOUR },
    ]);
  });

  it('items[].at reaches every element: equal spellings match, the one that differs is named by index', () => {
    const cache = cachedJson('{"items":[{"sku":"A","at":"2024-05-01T10:00:00Z"},{"sku":"B","at":1714557600000}]}');
    const same = { items: [{ sku: 'A', at: '2024-05-01 10:00:00' }, { sku: 'B', at: new Date(MAY_1_10H) }] };
    const later = { items: [{ sku: 'A', at: '2024-05-01 10:00:00' }, { sku: 'B', at: new Date(MAY_1_10H + HOUR) }] };
    expect(diffPayloads(paths('items[].at'), cache, same)).toEqual([]);
    expect(diffPayloads(paths('items[].at'), cache, later)).toEqual([{ path: 'items[1].at', cache: MAY_1_10H, source: MAY_1_10H + HOUR }]);
  });

  it('a value without the path is compared as it is', () => {
    expect(diffPayloads(paths('meta.at'), { meta: null }, { meta: null })).toEqual([]);
    expect(diffPayloads(paths('meta.at'), { meta: 'text' }, { meta: { at: 'x' } })).toEqual([{ path: 'meta', cache: 'text', source: { at: 'x' } }]);
  });

  it('leaves both payloads untouched', () => {
    const cache = { meta: { at: '2024-05-01T10:00:00Z' } };
    const source = { meta: { at: new Date(MAY_1_10H) } };
    expect(diffPayloads(paths('meta.at'), cache, source)).toEqual([]);
    expect(cache.meta.at).toBe('2024-05-01T10:00:00Z');
    expect(source.meta.at).toBeInstanceOf(Date);
  });

  it('applies a list in order to both sides', () => {
    const r = rule({ normalize: { nick: [{ name: 'trim' }, { name: 'empty-as-null' }] } });
    expect(diffPayloads(r, { nick: '   ' }, { nick: null })).toEqual([]);
    expect(diffPayloads(r, { nick: ' Ada ' }, { nick: 'ada' })).toEqual([{ path: 'nick', cache: 'Ada', source: 'ada' }]);
  });
});

describe('diffPayloads: a redacted path under a parent of another shape', () => {
  const r = rule({ redact: ['address.street'] });
  const SECRET = /Secret/;

  it.each([
    ['a string vs an object', { address: '1 Secret St' }, { address: { street: '1 Secret St', city: 'P' } }, REDACTED, { street: REDACTED, city: 'P' }],
    ['null vs an object', { address: null }, { address: { street: '2 Secret St' } }, null, { street: REDACTED }],
    ['an object vs missing', { address: { street: '3 Secret St', city: 'P' } }, {}, { street: REDACTED, city: 'P' }, null],
    ['an array vs an object', { address: ['4 Secret St'] }, { address: { street: '4 Secret St' } }, REDACTED, { street: REDACTED }],
    ['a number vs an object', { address: 4111 }, { address: { street: 'Secret' } }, REDACTED, { street: REDACTED }],
  ])('%s: the parent is masked where its shape is not the expected object', (_, cache, source, shownCache, shownSource) => {
    const diffs = diffPayloads(r, cache, source);
    expect(diffs).toEqual([{ path: 'address', cache: shownCache, source: shownSource }]);
    expect(JSON.stringify(diffs)).not.toMatch(SECRET);
  });

  it('arrays on both sides are not descended into when an object is expected', () => {
    const diffs = diffPayloads(r, { address: [{ street: '5 Secret St' }] }, { address: [{ street: '6 Secret St' }] });
    expect(diffs).toEqual([{ path: 'address', cache: REDACTED, source: REDACTED }]);
  });

  it('a `[]` entry masks the field in every element', () => {
    const diffs = diffPayloads(rule({ redact: ['items[].card'] }), { items: [{ card: 'Secret 1', n: 1 }] }, { items: [{ card: 'Secret 2', n: 2 }, { card: 'Secret 3' }] });
    expect(diffs).toEqual([
      { path: 'items[0].card', cache: REDACTED, source: REDACTED },
      { path: 'items[0].n', cache: 1, source: 2 },
      { path: 'items[1]', cache: null, source: { card: REDACTED } },
    ]);
  });
});

describe('diffPayloads: bounded values', () => {
  it('a large value is cut to an excerpt that says so; the other side stays whole', () => {
    const big = `start ${'x'.repeat(900_000)}`;
    const [d] = diffPayloads(rule(), { body: big }, { body: 'short' });
    expect(d?.source).toBe('short');
    expect(typeof d?.cache).toBe('string');
    expect((d?.cache as string).length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
    expect(d?.cache).toMatch(/^start x+… \(cut, 900 kB\)$/);
  });

  it('a large object is cut as its JSON text, after redaction', () => {
    const address = { street: 'Secret St', notes: 'n'.repeat(10_000) };
    const [d] = diffPayloads(rule({ redact: ['address.street'] }), { address: 'x' }, { address });
    expect(d?.source).toMatch(/^\{"street":"\*\*\*","notes":"n+… \(cut, 10 kB\)$/);
    expect((d?.source as string).length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
  });

  it('a hostile member name is cut in the path too', () => {
    const name = 'k'.repeat(5000);
    const [d] = diffPayloads(rule(), { meta: { [name]: 1 } }, { meta: { [name]: 2 } });
    expect(d?.path.length).toBeLessThanOrEqual(MAX_EXCERPT_CHARS);
    expect(d?.path).toMatch(/… \(cut, 5 kB\)$/);
  });
});
