/**
 * Comparison by the source column's type, against cache values in the forms other languages'
 * services write: each form matches the equal source value, and one digit, day or flag off does not.
 */
import { Buffer } from 'node:buffer';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import type { ColumnKind, ColumnType } from '../../../src/core/column-type.js';
import { equalByType } from '../../../src/core/compare-by-type.js';
import type { PreciseDate} from '../../../src/core/instant.js';
import { preciseDateOf } from '../../../src/core/instant.js';
import { parseJsonText } from '../../../src/core/json-text.js';

const t = (kind: ColumnKind, element?: ColumnType): ColumnType => (element === undefined ? { kind, name: kind } : { kind, name: kind, element });

/** A JSON number as the cache decoder sees it (a LosslessNumber when a double cannot hold it). */
function json(text: string): unknown {
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe('integers and decimals: exact', () => {
  it('equal in every numeric form, past 2^53 too', () => {
    expect(equalByType(t('integer'), json('9007199254740993'), new LosslessNumber('9007199254740993'))).toBe(true);
    expect(equalByType(t('integer'), '42', 42)).toBe(true);
    expect(equalByType(t('decimal'), '19.9', new LosslessNumber('19.90'))).toBe(true);
  });
  it('one digit off differs, also past 2^53 where a double would round them together', () => {
    expect(equalByType(t('integer'), json('9007199254740993'), new LosslessNumber('9007199254740992'))).toBe(false);
    expect(equalByType(t('decimal'), '19.91', new LosslessNumber('19.90'))).toBe(false);
  });
});

describe('float8 and float4: IEEE doubles', () => {
  it('a 17-significant-digit form equals the double it prints (Python repr of older versions, Java, Go %.17g)', () => {
    expect(equalByType(t('float8'), json('-37.556708200000003'), -37.5567082)).toBe(true);
    expect(equalByType(t('float8'), '-37.556708200000003', -37.5567082)).toBe(true);
    expect(equalByType(t('float8'), json('0.30000000000000004'), 0.1 + 0.2)).toBe(true);
  });
  it('a different double differs', () => {
    expect(equalByType(t('float8'), json('-37.556708200000010'), -37.5567082)).toBe(false);
    expect(equalByType(t('float8'), -37.5567083, -37.5567082)).toBe(false);
  });
  it('float4: both sides rounded to single precision', () => {
    expect(equalByType(t('float4'), json('0.10000000149011612'), 0.1)).toBe(true);
    expect(equalByType(t('float4'), 0.1, 0.1)).toBe(true);
    expect(equalByType(t('float4'), 0.1000001, 0.1)).toBe(false);
  });
  it('NaN and infinities as writers spell them', () => {
    expect(equalByType(t('float8'), 'NaN', NaN)).toBe(true);
    expect(equalByType(t('float8'), 'Infinity', Infinity)).toBe(true);
    expect(equalByType(t('float8'), '-Infinity', Infinity)).toBe(false);
  });
});

describe('booleans', () => {
  it('accepts true/false, 1/0 and the words writers use (Python str(True) is "True")', () => {
    for (const form of [true, 1, '1', 'true', 'True', 't', 'yes', 'on']) expect(equalByType(t('boolean'), form, true)).toBe(true);
    for (const form of [false, 0, '0', 'false', 'False', 'f', 'no', 'off']) expect(equalByType(t('boolean'), form, false)).toBe(true);
  });
  it('a flipped flag differs, and so does a number that is not 0 or 1', () => {
    expect(equalByType(t('boolean'), 'false', true)).toBe(false);
    expect(equalByType(t('boolean'), 2, true)).toBe(false);
    expect(equalByType(t('boolean'), 'maybe', true)).toBe(false);
  });
});

describe('TINYINT(1): a boolean only while the stored value is 0 or 1', () => {
  it('stored 1 equals a cached true, "1" and 1; stored 0 a cached false', () => {
    for (const form of [true, 'true', 1, '1']) expect(equalByType(t('bool-int'), form, 1)).toBe(true);
    for (const form of [false, 'false', 0, '0']) expect(equalByType(t('bool-int'), form, 0)).toBe(true);
  });
  it('stored 3 equals only 3: a cached "1" or true is a real difference', () => {
    expect(equalByType(t('bool-int'), '1', 3)).toBe(false);
    expect(equalByType(t('bool-int'), true, 3)).toBe(false);
    expect(equalByType(t('bool-int'), 3, 3)).toBe(true);
    expect(equalByType(t('bool-int'), '-5', -5)).toBe(true);
  });
});

describe('date: a calendar day', () => {
  const day = '2024-02-29';
  it('equals YYYY-MM-DD and a timestamp at midnight of that day (JSON.stringify of a driver Date, Go, Java)', () => {
    for (const form of ['2024-02-29', '2024-02-29T00:00:00.000Z', '2024-02-29T00:00:00Z', '2024-02-29 00:00:00', '2024-02-29T00:00:00+01:00', new Date('2024-02-29T00:00:00Z'), 1709164800000, 1709164800]) {
      expect(equalByType(t('date'), form, day)).toBe(true);
    }
  });
  it('a day off, or a time that is not midnight, differs', () => {
    for (const form of ['2024-03-01', '2024-02-28T00:00:00.000Z', '2024-02-29T00:00:00.001Z', '2024-02-29T12:00:00Z', 1709164800001, 'Feb 29 2024']) {
      expect(equalByType(t('date'), form, day)).toBe(false);
    }
  });
});

describe('timestamps: instants, compared at the precision of the coarser side', () => {
  const micros = preciseDateOf('2024-05-01 10:00:00.123456+00') as PreciseDate;
  it('equals the forms of Python, Go, Java, PHP and JS writers', () => {
    const forms: unknown[] = [
      '2024-05-01T10:00:00.123456', // Python isoformat(), naive
      '2024-05-01T10:00:00.123456+00:00', // Python isoformat(), aware
      '2024-05-01T12:00:00.123456+02:00',
      '2024-05-01T10:00:00.123456Z',
      '2024-05-01T10:00:00.123456000Z', // Go RFC 3339 nano
      '2024-05-01T10:00:00.123Z', // JS toISOString: milliseconds
      1714557600123, // Java epoch milliseconds
      json('1714557600.123456'), // Python time.time()
      { date: '2024-05-01 10:00:00.123456', timezone_type: 3, timezone: 'UTC' }, // PHP json_encode(DateTime)
    ];
    for (const form of forms) expect(equalByType(t('timestamptz'), form, micros), JSON.stringify(form)).toBe(true);
  });
  it('coarser forms match at their own precision (PHP Y-m-d H:i:s, epoch seconds)', () => {
    const whole = preciseDateOf('2024-05-01 10:00:00+00') as PreciseDate;
    expect(equalByType(t('timestamptz'), '2024-05-01 10:00:00', whole)).toBe(true);
    expect(equalByType(t('timestamptz'), 1714557600, whole)).toBe(true);
    expect(equalByType(t('timestamptz'), 1714557600, micros)).toBe(true);
  });
  it('one digit off differs, at every precision', () => {
    for (const form of ['2024-05-01T10:00:00.123457', '2024-05-01T10:00:00.124Z', 1714557600124, 1714557601, '2024-05-01 10:00:01', '2024-05-02T10:00:00.123456Z']) {
      expect(equalByType(t('timestamptz'), form, micros), JSON.stringify(form)).toBe(false);
    }
  });
  it('zone-less texts are wall-clock time in the source time zone', () => {
    const paris = preciseDateOf('2024-05-01 10:00:00', 'Europe/Paris') as PreciseDate;
    expect(paris.toISOString()).toBe('2024-05-01T08:00:00.000Z');
    expect(equalByType(t('timestamp'), '2024-05-01 10:00:00', paris, 'Europe/Paris')).toBe(true);
    expect(equalByType(t('timestamp'), '2024-05-01T08:00:00Z', paris, 'Europe/Paris')).toBe(true);
    expect(equalByType(t('timestamp'), '2024-05-01 10:00:00', paris)).toBe(false);
  });
});

describe('json: lossless and structural', () => {
  it('numbers past 2^53 keep their digits; a text holding JSON is parsed', () => {
    const source = json('{"a": 12345678901234567890, "b": [1, 2]}');
    expect(equalByType(t('json'), json('{"b": [1, 2], "a": 12345678901234567890}'), source)).toBe(true);
    expect(equalByType(t('json'), '{"b":[1,2],"a":12345678901234567890}', source)).toBe(true);
    expect(equalByType(t('json'), json('{"a": 12345678901234567891, "b": [1, 2]}'), source)).toBe(false);
  });
});

describe('bytes', () => {
  const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
  it('equal as bytes, pg hex, or base64 (Go and Jackson)', () => {
    expect(equalByType(t('bytes'), Buffer.from(bytes), bytes)).toBe(true);
    expect(equalByType(t('bytes'), '\\xdeadbeef', bytes)).toBe(true);
    expect(equalByType(t('bytes'), '3q2+7w==', bytes)).toBe(true);
    expect(equalByType(t('bytes'), 'hello', Buffer.from('hello'))).toBe(true);
  });
  it('one byte off differs', () => {
    expect(equalByType(t('bytes'), '\\xdeadbeee', bytes)).toBe(false);
    expect(equalByType(t('bytes'), '3q2+7g==', bytes)).toBe(false);
  });
});

describe('arrays: element by element by the element type', () => {
  it('an enum array equals the cached list; order and each element count', () => {
    expect(equalByType(t('array', t('text')), ['viewer', 'editor'], ['viewer', 'editor'])).toBe(true);
    expect(equalByType(t('array', t('text')), ['editor', 'viewer'], ['viewer', 'editor'])).toBe(false);
    expect(equalByType(t('array', t('text')), '["viewer","editor"]', ['viewer', 'editor'])).toBe(true);
  });
  it('elements compare by their type (dates, doubles)', () => {
    expect(equalByType(t('array', t('date')), ['2024-02-29T00:00:00.000Z'], ['2024-02-29'])).toBe(true);
    expect(equalByType(t('array', t('float8')), [json('0.30000000000000004')], [0.1 + 0.2])).toBe(true);
    expect(equalByType(t('array', t('date')), ['2024-03-01'], ['2024-02-29'])).toBe(false);
  });
});

describe('null and missing', () => {
  it('a missing field equals null, never a value', () => {
    expect(equalByType(t('integer'), undefined, null)).toBe(true);
    expect(equalByType(t('integer'), undefined, 0)).toBe(false);
    expect(equalByType(t('text'), '', null)).toBe(false);
  });
});

describe('uuid columns: the hex digits have no case', () => {
  const UUID_COLUMN: ColumnType = { kind: 'text', name: 'uuid' };
  const pg = '6f1c2a3e-9b4d-4c1a-8e2f-0a1b2c3d4e5f';
  it("a Java service's upper-case uuid equals PostgreSQL's lower-case one", () => {
    expect(equalByType(UUID_COLUMN, pg.toUpperCase(), pg)).toBe(true);
  });
  it('another uuid, or a non-uuid text in another case, still differs', () => {
    expect(equalByType(UUID_COLUMN, '6f1c2a3e-9b4d-4c1a-8e2f-0a1b2c3d4e50', pg)).toBe(false);
    expect(equalByType(UUID_COLUMN, 'ABC', 'abc')).toBe(false);
    expect(equalByType({ kind: 'text', name: 'text' }, pg.toUpperCase(), pg)).toBe(false);
  });
});
