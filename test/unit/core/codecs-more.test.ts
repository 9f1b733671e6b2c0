import { once } from 'node:events';
import { brotliCompressSync, constants, createBrotliCompress, gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { decodeCacheValue } from '../../../src/core/codecs.js';
import { valuesEqual } from '../../../src/core/compare.js';
import type { CodecName, FamilyRule } from '../../../src/core/rule.js';

type DecodeRule = Pick<FamilyRule, 'type' | 'codec' | 'fields' | 'redact'>;
const rule = (codec: CodecName, redact: readonly string[] = []): DecodeRule => ({ type: 'string', codec, redact });
const NEW_CODECS = ['msgpack', 'gzip-json', 'brotli-json'] as const;

function decoded(codec: CodecName, bytes: Buffer): Record<string, unknown> {
  const result = decodeCacheValue(rule(codec), bytes);
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.payload;
}

function decodeError(r: DecodeRule, bytes: Buffer): string {
  const result = decodeCacheValue(r, bytes);
  if (result.ok) throw new Error('expected a decode error');
  return result.error;
}

const SAMPLE = { name: 'Zoë', plan: 'pro', n: 42, price: 19.99, ok: true, none: null, tags: ['a', 'b'], nested: { x: 1, y: [1.5, 'z'] } };

describe('msgpack codec', () => {
  it('round-trips an object', () => {
    expect(valuesEqual(decoded('msgpack', Buffer.from(encode(SAMPLE))), SAMPLE)).toBe(true);
  });

  it('keeps integers past 2^53 exact and equal to the source spellings (pg int8 string, LosslessNumber)', () => {
    const bytes = Buffer.from(encode({ id: 9007199254740993n, neg: -9007199254740993n, max: 18446744073709551615n }, { useBigInt64: true }));
    const payload = decoded('msgpack', bytes);
    expect(payload.id).toBe(9007199254740993n);
    expect(valuesEqual(payload.id, '9007199254740993')).toBe(true);
    expect(valuesEqual(payload.id, new LosslessNumber('9007199254740993'))).toBe(true);
    expect(valuesEqual(payload.id, '9007199254740992')).toBe(false);
    expect(valuesEqual(payload.neg, '-9007199254740993')).toBe(true);
    expect(valuesEqual(payload.max, '18446744073709551615')).toBe(true);
    expect(valuesEqual(payload, { id: '9007199254740993', neg: '-9007199254740993', max: '18446744073709551615' })).toBe(true);
  });

  it('small integers stay numbers and compare with pg strings', () => {
    const payload = decoded('msgpack', Buffer.from(encode({ n: 7, m: -3 })));
    expect(payload).toEqual({ n: 7, m: -3 });
    expect(valuesEqual(payload.n, '7')).toBe(true);
  });

  it('decodes bin as a Buffer that equals a bytea column', () => {
    const blob = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const payload = decoded('msgpack', Buffer.from(encode({ blob: new Uint8Array(blob), list: [new Uint8Array([1])] })));
    expect(Buffer.isBuffer(payload.blob)).toBe(true);
    expect(valuesEqual(payload.blob, Buffer.from(blob))).toBe(true);
    expect(Buffer.isBuffer((payload.list as unknown[])[0])).toBe(true);
  });

  it('decodes the timestamp extension as a Date', () => {
    const when = new Date('2024-05-01T10:00:00.123Z');
    const payload = decoded('msgpack', Buffer.from(encode({ when })));
    expect(valuesEqual(payload.when, '2024-05-01 10:00:00.123')).toBe(true);
  });

  it.each([
    [[1, 2], 'array'],
    ['text', 'string'],
    [42, 'integer'],
    [1.5, 'float'],
    [null, 'nil'],
    [true, 'boolean'],
    [new Uint8Array([1]), 'bin'],
  ])('rejects a top-level %s: not a map', (value, got) => {
    expect(decodeError(rule('msgpack'), Buffer.from(encode(value)))).toMatch(new RegExp(`^expected a MessagePack map, got ${got} \\(`));
  });

  it('rejects garbage with a hex preview of at most 16 bytes', () => {
    const garbage = Buffer.from('c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1', 'hex');
    const error = decodeError(rule('msgpack'), garbage);
    expect(error).toMatch(/^invalid MessagePack/);
    expect(error).toContain('(20 bytes, first: c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1…)');
    expect(error).not.toContain('c1'.repeat(17));
  });

  it('rejects truncated and trailing bytes', () => {
    const bytes = Buffer.from(encode({ a: 'hello' }));
    expect(decodeError(rule('msgpack'), bytes.subarray(0, bytes.length - 2))).toMatch(/^invalid MessagePack: truncated/);
    expect(decodeError(rule('msgpack'), Buffer.concat([bytes, Buffer.from([0])]))).toMatch(/^invalid MessagePack: extra bytes/);
    expect(decodeError(rule('msgpack'), Buffer.alloc(0))).toMatch(/^invalid MessagePack: truncated \(0 bytes, first: none\)/);
  });

  it('refuses a header that claims more elements than the value has bytes, without allocating them', () => {
    // array32 of 2^32 - 1 elements, then nothing.
    const error = decodeError(rule('msgpack'), Buffer.from('dfffffffff', 'hex'));
    expect(error).toMatch(/^invalid MessagePack/);
  });

  it('a __proto__ key is an error, not a polluted prototype', () => {
    const bytes = Buffer.from(encode(Object.fromEntries([['__proto__', { polluted: true }]])));
    expect(decodeCacheValue(rule('msgpack'), bytes).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe.each([
  ['gzip-json', (b: Buffer) => gzipSync(b)],
  ['brotli-json', (b: Buffer) => brotliCompressSync(b)],
] as const)('%s codec', (codec, compress) => {
  it('round-trips an object', () => {
    expect(valuesEqual(decoded(codec, compress(Buffer.from(JSON.stringify(SAMPLE)))), SAMPLE)).toBe(true);
  });

  it('keeps a JSON integer past 2^53 exact', () => {
    const payload = decoded(codec, compress(Buffer.from('{"id":9007199254740993}')));
    expect(valuesEqual(payload.id, '9007199254740993')).toBe(true);
    expect(valuesEqual(payload.id, '9007199254740992')).toBe(false);
  });

  it('rejects bytes that are not compressed, with a hex preview', () => {
    const error = decodeError(rule(codec), Buffer.from('{"plain":"json"}'));
    expect(error).toMatch(/^invalid (gzip|brotli) data/);
    expect(error).toContain(`(16 bytes, first: ${Buffer.from('{"plain":"json"}').toString('hex')})`);
  });

  it('reports JSON errors inside the compressed value', () => {
    expect(decodeError(rule(codec), compress(Buffer.from('[1,2]')))).toMatch(/^expected a JSON object, got array \(/);
    expect(decodeError(rule(codec), compress(Buffer.from('{"a":')))).toMatch(/^invalid JSON/);
  });
});

describe('redacted families', () => {
  it.each(NEW_CODECS)('%s: an error hides the first bytes when the family redacts fields', (codec) => {
    const bytes = Buffer.from('secret-value-0123456789', 'utf8');
    const error = decodeError(rule(codec, ['email']), bytes);
    expect(error).toContain('(first bytes hidden: the family redacts fields)');
    expect(error).not.toContain(bytes.subarray(0, 4).toString('hex'));
  });

  it('json and raw errors never carried a preview', () => {
    expect(decodeError(rule('json'), Buffer.from('[1]'))).toBe('expected a JSON object, got array');
  });
});

/** `mib` MiB of zeros, compressed as a stream so the test never holds them either. */
async function brotliBomb(mib: number): Promise<Buffer> {
  const stream = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib; i++) if (!stream.write(zeros)) await once(stream, 'drain');
  stream.end();
  await once(stream, 'end');
  return Buffer.concat(chunks);
}

describe('decompression bombs', () => {
  it('gzip: 200 MiB of zeros is refused quickly', () => {
    // Gunzip reads concatenated members: 200 copies of 1 MiB of zeros, each about 1 KiB.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 200 }, () => member));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = Date.now();
    const error = decodeError(rule('gzip-json'), bomb);
    expect(error).toMatch(/^gzip value inflates past the 64 MiB limit/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('brotli: 200 MiB of zeros is refused quickly', async () => {
    const bomb = await brotliBomb(200);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = Date.now();
    const error = decodeError(rule('brotli-json'), bomb);
    expect(error).toMatch(/^brotli value inflates past the 64 MiB limit/);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);
});

describe('properties', () => {
  it.each(NEW_CODECS)('%s: arbitrary bytes never throw and give a short error', (codec) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (bytes, redacted) => {
        const result = decodeCacheValue(rule(codec, redacted ? ['x'] : []), Buffer.from(bytes));
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.error.length).toBeLessThan(220);
      }),
      { numRuns: 2000 },
    );
  });

  it('msgpack: a __proto__ key at any depth is undecodable (the decoder refuses it), never a polluted object', () => {
    const bytes = Buffer.from(encode(JSON.parse('{"a":{"__proto__":{"x":1}}}') as Record<string, unknown>));
    const result = decodeCacheValue(rule('msgpack'), bytes);
    expect(result.ok ? 'decoded' : result.error).toMatch(/^invalid MessagePack: The key __proto__ is not allowed/);
  });

  it('msgpack: any encoded JSON-like object decodes to an equal payload', () => {
    // No `__proto__` key at any depth: the decoder refuses those (the test above).
    const withoutProto = (value: unknown) => !JSON.stringify(value).includes('"__proto__":');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()).filter(withoutProto), (object) => {
        const plain = JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
        const result = decodeCacheValue(rule('msgpack'), Buffer.from(encode(plain)));
        expect(result.ok && valuesEqual(result.payload, plain)).toBe(true);
      }),
    );
  });

  it('msgpack: any 64-bit integer survives exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (n) => {
        const result = decodeCacheValue(rule('msgpack'), Buffer.from(encode({ n }, { useBigInt64: true })));
        expect(result.ok && valuesEqual(result.payload.n, n.toString())).toBe(true);
      }),
    );
  });
});
