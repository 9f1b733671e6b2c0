import fc from 'fast-check';
import { LosslessNumber, isLosslessNumber } from 'lossless-json';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { CODECS, decodeCacheValue } from '../../../src/core/codecs.js';
import { valuesEqual } from '../../../src/core/compare.js';
import type { FamilyRule } from '../../../src/core/rule.js';

type DecodeRule = Pick<FamilyRule, 'type' | 'codec' | 'fields'>;
const jsonRule: DecodeRule = { type: 'string', codec: 'json' };
const rawRule: DecodeRule = { type: 'string', codec: 'raw', fields: ['value'] };
const hashRule: DecodeRule = { type: 'hash', codec: 'json' };

function decodeJson(text: string): Record<string, unknown> {
  const result = decodeCacheValue(jsonRule, Buffer.from(text, 'utf8'));
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.payload;
}

function decodeError(rule: DecodeRule, value: Buffer | Record<string, Buffer>): string {
  const result = decodeCacheValue(rule, value);
  if (result.ok) throw new Error('expected a decode error');
  return result.error;
}

describe('CODECS registry', () => {
  it('has one entry per codec name', () => {
    expect(Object.keys(CODECS).sort()).toEqual(['brotli-json', 'gzip-json', 'json', 'msgpack', 'raw']);
  });
});

describe('json codec', () => {
  it('decodes a JSON object into its fields', () => {
    expect(decodeJson('{"name":"Ada","plan":"pro","n":3,"ok":true,"tags":["a"]}')).toEqual({
      name: 'Ada',
      plan: 'pro',
      n: 3,
      ok: true,
      tags: ['a'],
    });
  });

  it('keeps an integer beyond 2^53 exact as a LosslessNumber', () => {
    const payload = decodeJson('{"id":9007199254740993}');
    expect(isLosslessNumber(payload.id)).toBe(true);
    expect((payload.id as LosslessNumber).value).toBe('9007199254740993');
  });

  it('keeps numbers a double holds as plain numbers, even when it re-parses the text', () => {
    const payload = decodeJson('{"big":12345678901234567890,"price":19.99,"n":42,"neg":-7}');
    expect(payload.price).toBe(19.99);
    expect(payload.n).toBe(42);
    expect(payload.neg).toBe(-7);
    expect(payload.big).toBeInstanceOf(LosslessNumber);
  });

  it('keeps a decimal with more digits than a double exact', () => {
    const payload = decodeJson('{"x":0.1000000000000000055511151231257827}');
    expect((payload.x as LosslessNumber).value).toBe('0.1000000000000000055511151231257827');
  });

  it('keeps exponents a double overflows exact', () => {
    const payload = decodeJson('{"x":1e400,"y":-1e-400}');
    expect((payload.x as LosslessNumber).value).toBe('1e400');
    expect((payload.y as LosslessNumber).value).toBe('-1e-400');
  });

  it('leaves a 16-digit string a string', () => {
    expect(decodeJson('{"card":"4111111111111111111"}')).toEqual({ card: '4111111111111111111' });
  });

  it('keeps the last of duplicate keys on both parse paths, like JSON.parse', () => {
    expect(decodeJson('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(decodeJson('{"a":1,"a":2,"id":12345678901234567890}').a).toBe(2);
  });

  it('accepts a leading byte-order mark', () => {
    expect(decodeJson('\ufeff{"a":1}')).toEqual({ a: 1 });
  });

  it.each([
    ['[1,2]', 'array'],
    ['"text"', 'string'],
    ['42', 'number'],
    ['123456789012345678901234', 'number'],
    ['true', 'boolean'],
    ['null', 'null'],
  ])('rejects a top-level %s: not an object', (text, got) => {
    expect(decodeError(jsonRule, Buffer.from(text))).toBe(`expected a JSON object, got ${got}`);
  });

  it('rejects invalid JSON with a short message that does not echo the value', () => {
    const error = decodeError(jsonRule, Buffer.from('{"password": hunter2-very-secret-value, "x": 1}'));
    expect(error).toMatch(/^invalid JSON/);
    expect(error).not.toContain('hunter2');
    expect(error.length).toBeLessThanOrEqual(140);
  });

  it('does not echo a partial number from the value', () => {
    const error = decodeError(jsonRule, Buffer.from('{"pin": 987654.e}'));
    expect(error).toMatch(/^invalid JSON/);
    expect(error).not.toContain('987654');
  });

  it('rejects truncated JSON', () => {
    expect(decodeError(jsonRule, Buffer.from('{"a":'))).toMatch(/^invalid JSON/);
    expect(decodeError(jsonRule, Buffer.alloc(0))).toMatch(/^invalid JSON/);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(decodeError(jsonRule, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]))).toMatch(/UTF-8/);
  });

  it('reports absurd nesting as an error instead of throwing', () => {
    const deep = `{"a":${'['.repeat(200_000)}12345678901234567890${']'.repeat(200_000)}}`;
    expect(decodeCacheValue(jsonRule, Buffer.from(deep)).ok).toBe(false);
  });

  it.each([
    ['fast path', '{"__proto__":{"polluted":true},"a":1}'],
    ['lossless path', '{"__proto__":{"polluted":true},"a":12345678901234567890}'],
  ])('a __proto__ key stays data and pollutes nothing (%s)', (_path, text) => {
    const payload = decodeJson(text);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(payload, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('raw codec', () => {
  it('puts the whole value under the one configured field', () => {
    const result = decodeCacheValue(rawRule, Buffer.from('hello world'));
    expect(result).toEqual({ ok: true, payload: { value: 'hello world' } });
  });

  it('keeps bytes that are not UTF-8 as a Buffer so they still compare exactly', () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const result = decodeCacheValue(rawRule, bytes);
    expect(result.ok && Buffer.isBuffer(result.payload.value) && result.payload.value.equals(bytes)).toBe(true);
  });

  it('needs exactly one field', () => {
    expect(decodeError({ type: 'string', codec: 'raw' }, Buffer.from('x'))).toMatch(/exactly one/);
    expect(decodeError({ type: 'string', codec: 'raw', fields: ['a', 'b'] }, Buffer.from('x'))).toMatch(/exactly one/);
  });

  it('a raw field named __proto__ is an own property', () => {
    const result = decodeCacheValue({ type: 'string', codec: 'raw', fields: ['__proto__'] }, Buffer.from('x'));
    expect(result.ok && Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
    expect(result.ok && Object.getOwnPropertyDescriptor(result.payload, '__proto__')?.value).toBe('x');
  });
});

describe('hash values', () => {
  it('decodes every field as UTF-8 text and ignores the codec', () => {
    const result = decodeCacheValue(hashRule, { name: Buffer.from('Zoë'), age: Buffer.from('42'), doc: Buffer.from('not json') });
    expect(result).toEqual({ ok: true, payload: { name: 'Zoë', age: '42', doc: 'not json' } });
  });

  it('keeps a field that is not UTF-8 as its bytes', () => {
    const result = decodeCacheValue(hashRule, { blob: Buffer.from([0xff, 0x00]) });
    expect(result.ok && Buffer.isBuffer(result.payload.blob)).toBe(true);
  });

  it('a field named __proto__ stays data', () => {
    const map = Object.fromEntries([['__proto__', Buffer.from('x')]]) as Record<string, Buffer>;
    const result = decodeCacheValue(hashRule, map);
    expect(result.ok && Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
    expect(result.ok && Object.keys(result.payload)).toEqual(['__proto__']);
  });

  it('rejects a value of the other shape', () => {
    expect(decodeError(hashRule, Buffer.from('{}'))).toMatch(/expected a hash/);
    expect(decodeError(jsonRule, { a: Buffer.from('1') })).toMatch(/expected a string value/);
  });
});

describe('hash fields with their own codec (fieldCodecs)', () => {
  const rule = (fieldCodecs: FamilyRule['fieldCodecs'], redact: string[] = []) => ({ type: 'hash' as const, codec: 'json' as const, fieldCodecs, redact });

  it('round-trips a field through each codec that encodes data, leaving the other fields text', () => {
    const settings = { theme: 'dark', limits: [1, 2], big: 9007199254740993n };
    const json = '{"theme":"dark","limits":[1,2],"big":9007199254740993}';
    const map = {
      name: Buffer.from('Ada'),
      j: Buffer.from(json),
      m: Buffer.from(encode(settings, { useBigInt64: true })),
      g: gzipSync(Buffer.from(json)),
      b: brotliCompressSync(Buffer.from(json)),
      n: Buffer.from('42'),
    };
    const result = decodeCacheValue(rule({ j: 'json', m: 'msgpack', g: 'gzip-json', b: 'brotli-json', n: 'json' }), map);
    if (!result.ok) throw new Error(result.error);
    expect(result.payload['name']).toBe('Ada');
    expect(result.payload['n']).toBe(42);
    for (const field of ['j', 'm', 'g', 'b']) {
      expect(valuesEqual(result.payload[field], { theme: 'dark', limits: [1, 2], big: new LosslessNumber('9007199254740993') }), field).toBe(true);
    }
  });

  it('a field its codec cannot read makes the key undecodable, naming the field, with its first bytes unless redacted', () => {
    const map = { blob: Buffer.from('c1c2c3', 'hex'), name: Buffer.from('Ada') };
    expect(decodeError(rule({ blob: 'msgpack' }), map)).toMatch(/^field "blob" \(msgpack\): invalid MessagePack.*\(3 bytes, first: c1c2c3\)$/);
    expect(decodeError(rule({ blob: 'msgpack' }, ['name']), map)).toContain('first bytes hidden');
    expect(decodeError(rule({ name: 'json' }), map)).toMatch(/^field "name" \(json\): invalid JSON/);
  });

  it('ignores a codec for a field the hash does not hold', () => {
    const result = decodeCacheValue(rule({ missing: 'json' }), { name: Buffer.from('Ada') });
    expect(result).toEqual({ ok: true, payload: { name: 'Ada' } });
  });
});

describe('driver mappings through decode', () => {
  it('pg bigint 9007199254740993 equals the cached JSON number 9007199254740993', () => {
    expect(valuesEqual(decodeJson('{"id":9007199254740993}').id, '9007199254740993')).toBe(true);
  });

  it('pg bigint 9007199254740992 does not equal the cached JSON number 9007199254740993', () => {
    expect(valuesEqual(decodeJson('{"id":9007199254740993}').id, '9007199254740992')).toBe(false);
  });
});

describe('properties', () => {
  it('decodeCacheValue never throws, for arbitrary bytes under every rule shape', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        for (const rule of [jsonRule, rawRule, hashRule]) {
          const result = decodeCacheValue(rule, buffer);
          expect(typeof result.ok).toBe('boolean');
          if (!result.ok) expect(result.error.length).toBeLessThan(200);
        }
        const hashResult = decodeCacheValue(hashRule, { f: buffer });
        expect(hashResult.ok).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeCacheValue never throws for JSON-looking text', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(40), (text, cut) => {
        const result = decodeCacheValue(jsonRule, Buffer.from(text.slice(0, text.length - cut)));
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });

  it('a stringified object decodes to an equal payload', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const result = decodeCacheValue(jsonRule, Buffer.from(JSON.stringify(object)));
        expect(result.ok && valuesEqual(result.payload, JSON.parse(JSON.stringify(object)))).toBe(true);
      }),
    );
  });
});
