import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { valuesEqual } from '../../../src/core/compare.js';
import { normalizeAll, normalizeAtPath, normalizeField, normalizeValue, toEpochMs } from '../../../src/core/normalize.js';
import type { FamilyRule, NormalizerSpec } from '../../../src/core/rule.js';

const lowercase: NormalizerSpec = { name: 'lowercase' };
const trim: NormalizerSpec = { name: 'trim' };
const number: NormalizerSpec = { name: 'number' };
const decimal = (places: number): NormalizerSpec => ({ name: 'decimal', places });
const timestamp: NormalizerSpec = { name: 'timestamp' };
const boolean: NormalizerSpec = { name: 'boolean' };
const sorted: NormalizerSpec = { name: 'sorted' };
const json: NormalizerSpec = { name: 'json' };
const ALL: NormalizerSpec[] = [lowercase, trim, number, decimal(2), timestamp, boolean, sorted, json];

const MAY_1_10H = Date.UTC(2024, 4, 1, 10, 0, 0);

describe('every normalizer', () => {
  it.each(ALL.map((spec) => [spec.name, spec] as const))('%s passes null and undefined through', (_name, spec) => {
    expect(normalizeValue(spec, null)).toBeNull();
    expect(normalizeValue(spec, undefined)).toBeUndefined();
  });

  it('never throws and keeps what it cannot normalize', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.anything({ withDate: true, withBigInt: true }), (spec, value) => {
        normalizeValue(spec, value);
      }),
    );
    const odd = { some: 'object' };
    for (const spec of ALL.filter((s) => s.name !== 'sorted')) expect(normalizeValue(spec, odd)).toBe(odd);
  });
});

describe('lowercase and trim', () => {
  it('lowercase folds case of strings, and of strings in arrays', () => {
    expect(normalizeValue(lowercase, 'Ada@Example.COM')).toBe('ada@example.com');
    expect(normalizeValue(lowercase, ['A', 'b', 3])).toEqual(['a', 'b', 3]);
    expect(normalizeValue(lowercase, 42)).toBe(42);
  });

  it('trim removes surrounding whitespace only', () => {
    expect(normalizeValue(trim, '  a b \n')).toBe('a b');
    expect(normalizeValue(trim, [' x '])).toEqual(['x']);
    expect(normalizeValue(trim, true)).toBe(true);
  });
});

describe('number', () => {
  it('reads numeric strings, with spaces or a plus sign, as numbers', () => {
    expect(normalizeValue(number, '42')).toBe(42);
    expect(normalizeValue(number, ' 4.50 ')).toBe(4.5);
    expect(normalizeValue(number, '+7')).toBe(7);
    expect(normalizeValue(number, '.5')).toBe(0.5);
    expect(normalizeValue(number, '1e3')).toBe(1000);
    expect(normalizeValue(number, 10n)).toBe(10);
    expect(normalizeValue(number, 3.25)).toBe(3.25);
    expect(normalizeValue(number, true)).toBe(1);
  });

  it('keeps a value a double cannot hold exact, as a LosslessNumber', () => {
    const big = normalizeValue(number, '9007199254740993');
    expect(big).toBeInstanceOf(LosslessNumber);
    expect((big as LosslessNumber).value).toBe('9007199254740993');
    expect(valuesEqual(big, normalizeValue(number, 9007199254740992))).toBe(false);
    expect(valuesEqual(big, normalizeValue(number, new LosslessNumber('9007199254740993')))).toBe(true);
  });

  it('leaves a non-numeric string unchanged', () => {
    expect(normalizeValue(number, '12abc')).toBe('12abc');
    expect(normalizeValue(number, '')).toBe('');
  });
});

describe('decimal:N', () => {
  it.each([
    [2.005, 2, '2.01'],
    ['2.005', 2, '2.01'],
    [1.005, 2, '1.01'], // (1.005).toFixed(2) is '1.00': proof that no float is involved
    [2.004, 2, '2.00'],
    [-2.005, 2, '-2.01'],
    [-2.004, 2, '-2.00'],
    [-0.001, 2, '0.00'],
    [0.005, 2, '0.01'],
    [0.0049, 2, '0.00'],
    [9.995, 2, '10.00'],
    [10.5, 2, '10.50'],
    ['19.990', 2, '19.99'],
    ['10.50', 2, '10.50'],
    [7, 2, '7.00'],
    ['1e2', 2, '100.00'],
    ['1.5e-3', 3, '0.002'],
    [2.5, 0, '3'],
    [-2.5, 0, '-3'],
    [0.4, 0, '0'],
    ['123456789012345678901.125', 2, '123456789012345678901.13'],
    [new LosslessNumber('9007199254740993.004999'), 2, '9007199254740993.00'],
    [12345678901234567890n, 1, '12345678901234567890.0'],
  ])('%s rounded to %i places is %s', (value, places, expected) => {
    expect(normalizeValue(decimal(places), value)).toBe(expected);
  });

  it('makes a driver decimal and a cached float compare equal', () => {
    expect(valuesEqual(normalizeValue(decimal(2), 19.99), normalizeValue(decimal(2), '19.990'))).toBe(true);
    expect(valuesEqual(normalizeValue(decimal(2), 19.99), normalizeValue(decimal(2), '19.98'))).toBe(false);
  });

  it('leaves a non-numeric value unchanged', () => {
    expect(normalizeValue(decimal(2), 'n/a')).toBe('n/a');
    expect(normalizeValue(decimal(2), true)).toBe(true);
  });

  it('refuses to expand an absurd exponent', () => {
    expect(normalizeValue(decimal(2), '1e999999999')).toBe('1e999999999');
  });
});

describe('timestamp', () => {
  it.each([
    ['2024-05-01T10:00:00Z', MAY_1_10H],
    ['2024-05-01T10:00:00.000Z', MAY_1_10H],
    ['2024-05-01T10:00:00.123Z', MAY_1_10H + 123],
    ['2024-05-01T10:00:00.5Z', MAY_1_10H + 500],
    ['2024-05-01T10:00:00.123456Z', MAY_1_10H + 123],
    ['2024-05-01T10:00:00.1239Z', MAY_1_10H + 123], // truncated, not rounded
    ['2024-05-01T12:00:00+02:00', MAY_1_10H],
    ['2024-05-01T05:30:00-04:30', MAY_1_10H],
    ['2024-05-01 12:00:00+02', MAY_1_10H], // pg timestamptz text
    ['2024-05-01 12:00:00.123456+0200', MAY_1_10H + 123],
    ['2024-05-01 10:00:00', MAY_1_10H], // zone-less is UTC
    ['2024-05-01T10:00:00', MAY_1_10H],
    ['2024-05-01T10:00', MAY_1_10H],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['1969-12-31T23:59:59.999Z', -1],
  ])('%s is epoch ms %i', (text, expected) => {
    expect(normalizeValue(timestamp, text)).toBe(expected);
  });

  it('reads epoch seconds and epoch milliseconds by magnitude', () => {
    expect(normalizeValue(timestamp, MAY_1_10H / 1000)).toBe(MAY_1_10H);
    expect(normalizeValue(timestamp, MAY_1_10H)).toBe(MAY_1_10H);
    expect(normalizeValue(timestamp, String(MAY_1_10H / 1000))).toBe(MAY_1_10H);
    expect(normalizeValue(timestamp, String(MAY_1_10H))).toBe(MAY_1_10H);
    expect(normalizeValue(timestamp, 1714557600.5)).toBe(1714557600500);
    expect(normalizeValue(timestamp, BigInt(MAY_1_10H))).toBe(MAY_1_10H);
  });

  it('puts the seconds/milliseconds cutoff at 1e11', () => {
    expect(normalizeValue(timestamp, 99_999_999_999)).toBe(99_999_999_999_000);
    expect(normalizeValue(timestamp, 100_000_000_000)).toBe(100_000_000_000);
  });

  it('takes a Date as its epoch ms', () => {
    expect(normalizeValue(timestamp, new Date(MAY_1_10H + 7))).toBe(MAY_1_10H + 7);
  });

  it('makes a Date, an ISO string and epoch seconds compare equal', () => {
    const values = [new Date(MAY_1_10H), '2024-05-01T12:00:00+02:00', MAY_1_10H / 1000, '2024-05-01 10:00:00.000999'];
    const normalized = values.map((v) => normalizeValue(timestamp, v));
    expect(new Set(normalized).size).toBe(1);
  });

  it.each(['tomorrow', '2024-02-30T00:00:00Z', '2024-13-01', '2024-05-01T25:00:00Z', '2024-05-01T10:00:00+02:00junk'])(
    'leaves %s unchanged',
    (text) => {
      expect(normalizeValue(timestamp, text)).toBe(text);
    },
  );

  it('leaves an invalid Date and an out-of-range epoch unchanged', () => {
    const invalid = new Date(Number.NaN);
    expect(normalizeValue(timestamp, invalid)).toBe(invalid);
    expect(normalizeValue(timestamp, 1e20)).toBe(1e20);
    expect(toEpochMs(true)).toBeUndefined();
  });
});

describe('boolean', () => {
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['1', true],
    ['0', false],
    ['t', true],
    ['f', false],
    ['T', true],
    ['true', true],
    ['FALSE', false],
    ['yes', true],
    ['No', false],
    [1n, true],
    [new LosslessNumber('0'), false],
  ])('%s is %s', (value, expected) => {
    expect(normalizeValue(boolean, value)).toBe(expected);
  });

  it.each([2, 'maybe', '', -1])('leaves %s unchanged', (value) => {
    expect(normalizeValue(boolean, value)).toBe(value);
  });
});

describe('sorted', () => {
  it('sorts an array without touching the original', () => {
    const tags = ['b', 'c', 'a'];
    expect(normalizeValue(sorted, tags)).toEqual(['a', 'b', 'c']);
    expect(tags).toEqual(['b', 'c', 'a']);
  });

  it('compares arrays as sets once both sides are sorted', () => {
    const a = normalizeValue(sorted, ['10', '9', '2']);
    const b = normalizeValue(sorted, [2, 9, 10]);
    expect(valuesEqual(a, b)).toBe(true);
    expect(valuesEqual(normalizeValue(sorted, [1, 2]), normalizeValue(sorted, [2, 3]))).toBe(false);
  });

  it('lines up Dates with their ISO strings and objects regardless of key order', () => {
    const d1 = new Date(MAY_1_10H);
    const d2 = new Date(MAY_1_10H + 1000);
    expect(valuesEqual(normalizeValue(sorted, [d2, d1]), normalizeValue(sorted, ['2024-05-01T10:00:00Z', '2024-05-01T10:00:01.000Z']))).toBe(true);
    const objects = normalizeValue(sorted, [{ b: 2, a: 'y' }, { a: 'x', b: 1 }]);
    const reordered = normalizeValue(sorted, [{ a: 'x', b: 1 }, { a: 'y', b: 2 }]);
    expect(valuesEqual(objects, reordered)).toBe(true);
  });

  it('leaves a non-array unchanged', () => {
    expect(normalizeValue(sorted, 'abc')).toBe('abc');
  });
});

describe('json', () => {
  it('parses a string holding JSON', () => {
    expect(normalizeValue(json, '{"a":[1,2],"b":null}')).toEqual({ a: [1, 2], b: null });
  });

  it('keeps big numbers inside the JSON text exact', () => {
    const parsed = normalizeValue(json, '{"id":9007199254740993}') as { id: LosslessNumber };
    expect(parsed.id.value).toBe('9007199254740993');
  });

  it('leaves invalid JSON and non-strings unchanged', () => {
    expect(normalizeValue(json, '{oops')).toBe('{oops');
    const object = { a: 1 };
    expect(normalizeValue(json, object)).toBe(object);
  });
});

describe('timestamp calendar edges', () => {
  it('knows leap days and two-digit years', () => {
    expect(normalizeValue(timestamp, '2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(normalizeValue(timestamp, '2023-02-29T00:00:00Z')).toBe('2023-02-29T00:00:00Z');
    expect(normalizeValue(timestamp, '2000-02-29')).toBe(Date.UTC(2000, 1, 29));
    expect(normalizeValue(timestamp, '1900-02-29')).toBe('1900-02-29');
    expect(normalizeValue(timestamp, '2024-04-31')).toBe('2024-04-31');
    expect(normalizeValue(timestamp, '0042-01-01T00:00:00Z')).toBe(new Date('0042-01-01T00:00:00Z').getTime());
  });
});

const date: NormalizerSpec = { name: 'date' };
const emptyAsNull: NormalizerSpec = { name: 'empty-as-null' };

describe('date', () => {
  it('keeps a calendar day and takes the day of a timestamp, in UTC', () => {
    expect(normalizeValue(date, '2024-02-29')).toBe('2024-02-29');
    expect(normalizeValue(date, '2024-02-29T00:00:00.000Z')).toBe('2024-02-29');
    expect(normalizeValue(date, '2024-02-29 13:45:00')).toBe('2024-02-29'); // zone-less: UTC
    expect(normalizeValue(date, '2024-02-29T23:30:00-02:00')).toBe('2024-03-01');
    expect(normalizeValue(date, '2024-03-01T00:30:00+02:00')).toBe('2024-02-29');
    expect(normalizeValue(date, '2024-02-29T10:00:00.123456+00:00')).toBe('2024-02-29');
  });

  it('reads driver Dates and epoch seconds or milliseconds by magnitude', () => {
    const at = Date.UTC(2024, 1, 29, 22, 0, 0);
    expect(normalizeValue(date, new Date(at))).toBe('2024-02-29');
    expect(normalizeValue(date, at)).toBe('2024-02-29');
    expect(normalizeValue(date, at / 1000)).toBe('2024-02-29');
    expect(normalizeValue(date, String(at / 1000))).toBe('2024-02-29');
    expect(normalizeValue(date, new LosslessNumber(String(at)))).toBe('2024-02-29');
  });

  it('makes a date equal a timestamp of that day, and not of the next', () => {
    expect(valuesEqual(normalizeValue(date, '2024-02-29'), normalizeValue(date, '2024-02-29T00:00:00Z'))).toBe(true);
    expect(valuesEqual(normalizeValue(date, '2024-02-29'), normalizeValue(date, '2024-03-01T00:00:00Z'))).toBe(false);
  });

  it('leaves what is not a day unchanged', () => {
    expect(normalizeValue(date, '2023-02-29')).toBe('2023-02-29');
    expect(normalizeValue(date, 'yesterday')).toBe('yesterday');
    expect(normalizeValue(date, true)).toBe(true);
    const invalid = new Date(NaN);
    expect(normalizeValue(date, invalid)).toBe(invalid);
    expect(normalizeValue(date, null)).toBeNull();
  });
});

describe('empty-as-null', () => {
  it('turns an empty string, an empty array and an empty object into null', () => {
    expect(normalizeValue(emptyAsNull, '')).toBeNull();
    expect(normalizeValue(emptyAsNull, [])).toBeNull();
    expect(normalizeValue(emptyAsNull, {})).toBeNull();
    expect(valuesEqual(normalizeValue(emptyAsNull, ''), normalizeValue(emptyAsNull, null))).toBe(true);
  });

  it('keeps blanks, zeros, false and non-empty values', () => {
    for (const value of [' ', '0', 0, false, [''], { a: null }, 'x']) expect(normalizeValue(emptyAsNull, value)).toBe(value);
    expect(normalizeValue(emptyAsNull, undefined)).toBeUndefined();
  });
});

describe('a list of normalizers', () => {
  it('applies them in order', () => {
    expect(normalizeAll([trim, emptyAsNull], '   ')).toBeNull();
    expect(normalizeAll([emptyAsNull, trim], '   ')).toBe('');
    expect(normalizeAll([trim, lowercase], '  Ada@X.IO ')).toBe('ada@x.io');
    expect(normalizeAll([json, sorted], '[3,1,2]')).toEqual([1, 2, 3]);
    expect(normalizeAll([], 'As Is')).toBe('As Is');
  });

  it('never throws, whatever the list and the value', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALL, date, emptyAsNull), { maxLength: 3 }), fc.anything({ withDate: true, withBigInt: true }), (specs, value) => {
        normalizeAll(specs, value);
      }),
    );
  });
});

describe('normalizers at a path', () => {
  const at = (...steps: string[]) => ({ steps, specs: [timestamp] });
  const MS = Date.UTC(2024, 4, 1, 10);

  it('reaches a key of a nested object, and copies instead of modifying', () => {
    const value = { at: '2024-05-01T10:00:00Z', meta: { at: '2024-05-01T12:00:00+02:00', by: 'ada' } };
    const out = normalizeAtPath(at('meta', 'at'), value);
    expect(out).toEqual({ at: '2024-05-01T10:00:00Z', meta: { at: MS, by: 'ada' } });
    expect(value.meta.at).toBe('2024-05-01T12:00:00+02:00');
  });

  it('reaches a key of every element of an array, at any depth', () => {
    const value = [{ at: '2024-05-01T10:00:00Z' }, { at: 1714557600 }, { other: 1 }, 'text'];
    expect(normalizeAtPath(at('[]', 'at'), value)).toEqual([{ at: MS }, { at: MS }, { other: 1 }, 'text']);
    const orders = { lines: [{ events: [{ at: '2024-05-01T10:00:00Z' }] }, { events: [] }] };
    expect(normalizeAtPath(at('lines', '[]', 'events', '[]', 'at'), orders)).toEqual({ lines: [{ events: [{ at: MS }] }, { events: [] }] });
    expect(normalizeAtPath({ steps: ['[]'], specs: [trim, lowercase] }, [' A', 'b '])).toEqual(['a', 'b']);
  });

  it('leaves a value without the path as it is, the same object', () => {
    for (const value of [{ meta: null }, { meta: 'text' }, { meta: [] }, { other: 1 }, 'text', 42, null, [1, 2], new Date(0)]) {
      expect(normalizeAtPath(at('meta', 'at'), value)).toBe(value);
    }
    const unchanged = { meta: { at: 'not a time' } };
    expect(normalizeAtPath(at('meta', 'at'), unchanged)).toBe(unchanged);
    expect(normalizeAtPath(at('[]', 'at'), { at: 1 })).toEqual({ at: 1 });
  });

  it('does not read inherited keys, and keeps a key named __proto__ a key', () => {
    expect(normalizeAtPath(at('constructor'), {})).toEqual({});
    const value = JSON.parse('{"__proto__":{"at":"2024-05-01T10:00:00Z"}}') as Record<string, unknown>;
    const out = normalizeAtPath(at('__proto__', 'at'), value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out['__proto__']).toEqual({ at: MS });
  });
});

describe('normalizeField', () => {
  const rule: Pick<FamilyRule, 'normalize' | 'normalizePaths'> = {
    normalize: { email: [trim, lowercase], meta: [json] },
    normalizePaths: { meta: [{ path: 'meta.at', steps: ['at'], specs: [timestamp] }, { path: 'meta.tags[]', steps: ['tags', '[]'], specs: [lowercase, emptyAsNull] }] },
  };

  it("applies the field's list, then its paths in order", () => {
    expect(normalizeField(rule, 'email', ' Ada@X.io')).toBe('ada@x.io');
    expect(normalizeField(rule, 'meta', '{"at":"2024-05-01T10:00:00Z","tags":["A",""]}')).toEqual({ at: Date.UTC(2024, 4, 1, 10), tags: ['a', null] });
  });

  it('leaves other fields, and fields named like Object.prototype members, unchanged', () => {
    expect(normalizeField(rule, 'name', ' Ada ')).toBe(' Ada ');
    expect(normalizeField(rule, 'constructor', 'x')).toBe('x');
    expect(normalizeField({ normalize: {} }, 'email', ' A ')).toBe(' A ');
  });
});
