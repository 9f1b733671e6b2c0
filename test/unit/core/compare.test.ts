import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { decodeCacheValue } from '../../../src/core/codecs.js';
import { compareVersions, displayValue, valuesEqual } from '../../../src/core/compare.js';

const MAY_1_10H = Date.UTC(2024, 4, 1, 10, 0, 0);

function cachedJson(text: string): Record<string, unknown> {
  const result = decodeCacheValue({ type: 'string', codec: 'json' }, Buffer.from(text));
  if (!result.ok) throw new Error(result.error);
  return result.payload;
}

function cachedHash(fields: Record<string, string>): Record<string, unknown> {
  const map = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v)]));
  const result = decodeCacheValue({ type: 'hash', codec: 'json' }, map);
  if (!result.ok) throw new Error(result.error);
  return result.payload;
}

describe('valuesEqual: exact numbers against driver strings', () => {
  it('pg bigint string equals the cached JSON integer beyond 2^53, exactly', () => {
    const { id } = cachedJson('{"id":9007199254740993}');
    expect(valuesEqual(id, '9007199254740993')).toBe(true);
    expect(valuesEqual('9007199254740993', id)).toBe(true);
    expect(valuesEqual(id, '9007199254740992')).toBe(false);
    expect(valuesEqual(id, 9007199254740993n)).toBe(true);
  });

  it('a JS number that was rounded does not equal the exact driver string', () => {
    // 9007199254740993 as a double is ...992: the cache lost a digit, which is a real difference.
    expect(valuesEqual(2 ** 53, '9007199254740993')).toBe(false);
  });

  it.each([
    [10.5, '10.50', true], // pg numeric
    [19.99, '19.990', true], // mysql2 DECIMAL(10,3)
    [0.1, '0.10', true],
    [42, '42', true],
    [42, '42.000', true],
    [7, '007', true],
    [0, '-0', true],
    [-0, '0.00', true],
    [-1.5, '-1.50', true],
    [1e21, '1000000000000000000000', true],
    [1e-7, '0.0000001', true],
    [1e21, '1e21', true],
    [1.5, '15e-1', true],
    [10.5, '10.05', false],
    [19.99, '19.991', false],
    [42, '-42', false],
    [42, '42 ', false],
    [42, ' 42', false],
    [42, '+42', false],
    [42, '42abc', false],
    [42, '', false],
  ])('number %s vs driver string %j: %s', (cache, source, expected) => {
    expect(valuesEqual(cache, source)).toBe(expected);
    expect(valuesEqual(source, cache)).toBe(expected);
  });

  it('a LosslessNumber equals a bigint and a decimal string with other trailing zeros', () => {
    expect(valuesEqual(new LosslessNumber('123456789012345678901234.5'), '123456789012345678901234.50')).toBe(true);
    expect(valuesEqual(new LosslessNumber('12345678901234567890'), 12345678901234567890n)).toBe(true);
    expect(valuesEqual(new LosslessNumber('12345678901234567890'), 12345678901234567891n)).toBe(false);
  });

  it('a numeric source equals the hash string Redis holds for it', () => {
    const hash = cachedHash({ age: '42', balance: '10.5', id: '9007199254740993' });
    expect(valuesEqual(hash.age, 42)).toBe(true);
    expect(valuesEqual(hash.balance, 10.5)).toBe(true);
    // A loader that tags pg numeric text as a LosslessNumber gets the exact numeric comparison.
    expect(valuesEqual(hash.balance, new LosslessNumber('10.50'))).toBe(true);
    expect(valuesEqual(hash.id, '9007199254740993')).toBe(true);
    expect(valuesEqual(hash.age, 43)).toBe(false);
  });

  it('two numeric strings are still compared exactly, as strings (a zip code 007 is not 7)', () => {
    expect(valuesEqual('10.50', '10.5')).toBe(false);
    expect(valuesEqual('007', '7')).toBe(false);
  });
});

describe('valuesEqual: booleans', () => {
  it('mysql2 TINYINT(1) 1/0 equals the cached JSON true/false, both directions', () => {
    expect(valuesEqual(cachedJson('{"a":true}').a, 1)).toBe(true);
    expect(valuesEqual(1, true)).toBe(true);
    expect(valuesEqual(false, 0)).toBe(true);
    expect(valuesEqual(0, false)).toBe(true);
    expect(valuesEqual(true, 0)).toBe(false);
    expect(valuesEqual(2, true)).toBe(false);
  });

  it.each(['t', 'true', '1', 'TRUE', 'T'])('pg true equals the hash string %j', (text) => {
    expect(valuesEqual(cachedHash({ active: text }).active, true)).toBe(true);
    expect(valuesEqual(true, text)).toBe(true);
    expect(valuesEqual(false, text)).toBe(false);
  });

  it.each(['f', 'false', '0'])('pg false equals the hash string %j', (text) => {
    expect(valuesEqual(text, false)).toBe(true);
    expect(valuesEqual(text, true)).toBe(false);
  });

  it('needs the boolean normalizer for yes/no', () => {
    expect(valuesEqual('yes', true)).toBe(false);
  });

  it('mysql2 BIT(1) as a one-byte Buffer equals true/false', () => {
    expect(valuesEqual(true, Buffer.from([1]))).toBe(true);
    expect(valuesEqual(Buffer.from([0]), false)).toBe(true);
    expect(valuesEqual(Buffer.from([0]), true)).toBe(false);
  });
});

describe('valuesEqual: timestamps', () => {
  const source = new Date(MAY_1_10H + 123);
  it.each([
    ['2024-05-01T10:00:00.123Z', true],
    ['2024-05-01T12:00:00.123+02:00', true],
    ['2024-05-01 12:00:00.123+02', true],
    ['2024-05-01 10:00:00.123', true], // zone-less is UTC
    ['2024-05-01T10:00:00.123456Z', true], // pg microseconds truncated to ms
    ['2024-05-01T10:00:00.123999', true],
    ['2024-05-01T10:00:00Z', false],
    ['2024-05-01T10:00:00.124Z', false],
    ['2024-05-01T10:00:00.123+01:00', false],
    ['not a date', false],
  ])('a driver Date equals %j: %s', (text, expected) => {
    expect(valuesEqual(text, source)).toBe(expected);
    expect(valuesEqual(source, text)).toBe(expected);
  });

  it('a Date without a fraction equals the ISO string without one', () => {
    expect(valuesEqual('2024-05-01T10:00:00Z', new Date(MAY_1_10H))).toBe(true);
  });

  it('a Date equals its epoch milliseconds, as a number or a hash string', () => {
    expect(valuesEqual(MAY_1_10H, new Date(MAY_1_10H))).toBe(true);
    expect(valuesEqual(String(MAY_1_10H), new Date(MAY_1_10H))).toBe(true);
    expect(valuesEqual(MAY_1_10H + 1, new Date(MAY_1_10H))).toBe(false);
  });

  it('Dates compare by instant', () => {
    expect(valuesEqual(new Date(MAY_1_10H), new Date(MAY_1_10H))).toBe(true);
    expect(valuesEqual(new Date(MAY_1_10H), new Date(MAY_1_10H + 1))).toBe(false);
    expect(valuesEqual(new Date(Number.NaN), '2024-05-01')).toBe(false);
  });

  it('two timestamp strings are still compared exactly, as strings', () => {
    expect(valuesEqual('2024-05-01T10:00:00Z', '2024-05-01T12:00:00+02:00')).toBe(false);
  });
});

describe('valuesEqual: structure', () => {
  it('object key order never matters, at any depth', () => {
    const cache = cachedJson('{"b":{"y":[1,{"q":1,"p":2}],"x":1},"a":"s"}');
    expect(valuesEqual(cache, { a: 's', b: { x: 1, y: [1, { p: 2, q: 1 }] } })).toBe(true);
  });

  it('a missing field equals null, nothing else', () => {
    expect(valuesEqual({ a: 1 }, { a: 1, b: null })).toBe(true);
    expect(valuesEqual({ a: 1, b: null }, { a: 1 })).toBe(true);
    expect(valuesEqual(undefined, null)).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(valuesEqual({ a: 1, b: '' }, { a: 1 })).toBe(false);
    expect(valuesEqual(null, 0)).toBe(false);
    expect(valuesEqual('', undefined)).toBe(false);
  });

  it('arrays compare element-wise, in order, with driver mappings inside', () => {
    expect(valuesEqual(['1', '2'], [1, 2])).toBe(true);
    expect(valuesEqual([1, 2], [2, 1])).toBe(false);
    expect(valuesEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(valuesEqual([1], { 0: 1 })).toBe(false);
  });

  it('nested values apply the same mappings', () => {
    const cache = cachedJson('{"order":{"total":19.99,"paid":true,"at":"2024-05-01T10:00:00Z"}}');
    expect(valuesEqual(cache, { order: { total: '19.990', paid: 1, at: new Date(MAY_1_10H) } })).toBe(true);
  });

  it('a pg bytea Buffer equals the cached text of its bytes', () => {
    expect(valuesEqual('héllo', Buffer.from('héllo'))).toBe(true);
    expect(valuesEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(valuesEqual(Buffer.from('abc'), 'abd')).toBe(false);
    expect(valuesEqual(new Uint8Array([0x61]), 'a')).toBe(true);
  });

  it('a hash field holding JSON equals the structured column it caches', () => {
    const hash = cachedHash({ prefs: '{"theme":"dark","n":1}' });
    expect(valuesEqual(hash.prefs, { n: 1, theme: 'dark' })).toBe(true);
    expect(valuesEqual(hash.prefs, { n: 2, theme: 'dark' })).toBe(false);
    expect(valuesEqual('[1,2]', [1, 2])).toBe(true);
    expect(valuesEqual('not json', { a: 1 })).toBe(false);
  });

  it('strings compare exactly: no trimming, no case folding', () => {
    expect(valuesEqual('Ada', 'ada')).toBe(false);
    expect(valuesEqual('a ', 'a')).toBe(false);
    expect(valuesEqual('Ada', 'Ada')).toBe(true);
  });

  it('is symmetric and reflexive over JSON-like values', () => {
    const value = fc.oneof(fc.jsonValue(), fc.date({ noInvalidDate: true }), fc.bigInt(), fc.string().map((s) => Buffer.from(s)));
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(valuesEqual(a, b)).toBe(valuesEqual(b, a));
        expect(valuesEqual(a, structuredClone(a))).toBe(true);
      }),
    );
  });
});

describe('compareVersions', () => {
  it.each([
    [12, '12', 0],
    ['12', 12, 0],
    ['9', '10', -1], // numerically, not as strings
    [10, '9', 1],
    ['1.10', 1.1, 0],
    ['2.5', 3, -1],
    [-3, '-2', -1],
    ['9007199254740993', 9007199254740992, 1],
    [new LosslessNumber('9007199254740993'), '9007199254740993', 0],
    [new LosslessNumber('9007199254740993'), '9007199254740994', -1],
    [12345678901234567890n, '12345678901234567889', 1],
    ['1e3', 999, 1],
  ] as const)('%s vs %s is %i', (cache, source, expected) => {
    expect(compareVersions(cache, source)).toBe(expected);
  });

  it('orders Dates and timestamp strings by instant', () => {
    expect(compareVersions(new Date(MAY_1_10H), '2024-05-01T12:00:00+02:00')).toBe(0);
    expect(compareVersions('2024-05-01T10:00:00Z', new Date(MAY_1_10H + 1))).toBe(-1);
    expect(compareVersions('2024-05-01T12:00:01+02:00', '2024-05-01T10:00:00Z')).toBe(1);
    expect(compareVersions(MAY_1_10H, new Date(MAY_1_10H))).toBe(0);
  });

  it('orders other strings by code units', () => {
    expect(compareVersions('abc', 'abd')).toBe(-1);
    expect(compareVersions('b', 'a')).toBe(1);
    expect(compareVersions('0/16B3740', '0/16B3740')).toBe(0);
  });

  it('is undefined when a side is missing or they cannot be ordered', () => {
    expect(compareVersions(null, 1)).toBeUndefined();
    expect(compareVersions(1, undefined)).toBeUndefined();
    expect(compareVersions(true, 1)).toBeUndefined();
    expect(compareVersions('abc', 5)).toBeUndefined();
    expect(compareVersions({ v: 1 }, { v: 1 })).toBeUndefined();
    expect(compareVersions(Number.NaN, 1)).toBeUndefined();
    expect(compareVersions(new Date(MAY_1_10H), 'soon')).toBeUndefined();
  });
});

describe('displayValue', () => {
  it('turns driver and decoder types into JSON-serialisable values', () => {
    expect(displayValue(new Date(MAY_1_10H))).toBe('2024-05-01T10:00:00.000Z');
    expect(displayValue(12345678901234567890n)).toBe('12345678901234567890');
    expect(displayValue(new LosslessNumber('9007199254740993'))).toBe('9007199254740993');
    expect(displayValue(Buffer.from('text'))).toBe('text');
    expect(displayValue(undefined)).toBeNull();
    expect(displayValue(Number.NaN)).toBe('NaN');
    expect(displayValue('as is')).toBe('as is');
    expect(displayValue(3)).toBe(3);
  });

  it('shows binary as a short hex preview and long bytes truncated', () => {
    expect(displayValue(Buffer.from([0xff, 0x00, 0x10]))).toBe('<3 bytes 0xff0010>');
    const long = displayValue(Buffer.alloc(100, 0xff)) as string;
    expect(long).toMatch(/^<100 bytes 0x(ff){16}…>$/);
    expect((displayValue(Buffer.from('x'.repeat(10_000))) as string).length).toBe(200);
  });

  it('recurses into objects and arrays, and survives JSON.stringify', () => {
    const shown = displayValue({ at: new Date(MAY_1_10H), ids: [1n, new LosslessNumber('2')] });
    expect(JSON.parse(JSON.stringify(shown))).toEqual({ at: '2024-05-01T10:00:00.000Z', ids: ['1', '2'] });
  });

  it('keeps a __proto__ key as data', () => {
    const shown = displayValue(JSON.parse('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(shown)).toBe(Object.prototype);
    expect(JSON.stringify(shown)).toBe('{"__proto__":{"x":1}}');
  });
});
