import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { analyzePayloads, detectCodec, markerCandidate, type ValueSample } from '../../../src/init/payloads.js';

const str = (id: string, text: string | Buffer, pttlMs = 1000): ValueSample => ({
  key: `k:${id}`,
  id,
  redisType: 'string',
  value: Buffer.isBuffer(text) ? text : Buffer.from(text),
  pttlMs,
});

describe('codec detection', () => {
  it('recognises JSON objects, gzip and MessagePack by their first bytes', () => {
    expect(detectCodec(Buffer.from('{"a":1}'))?.codec).toBe('json');
    expect(detectCodec(gzipSync('{"a":1}'))?.codec).toBe('gzip-json');
    expect(detectCodec(Buffer.from(encode({ a: 1 })))?.codec).toBe('msgpack');
    expect(detectCodec(Buffer.from('[1,2]'))).toBeUndefined();
    expect(detectCodec(Buffer.from('__none__'))).toBeUndefined();
  });
});

describe('analyzePayloads', () => {
  it('takes the majority type and codec, keeps field order, and sets aside what does not decode', () => {
    const samples: ValueSample[] = [
      ...Array.from({ length: 8 }, (_, i) => str(String(i), JSON.stringify({ id: i, name: `n${i}`, email: 'E' }), 1000 * i)),
      str('90', '__none__', 45_000),
      str('91', '__none__', -1),
      str('92', '{"id": 92, "name": "Trunc'),
      { key: 'k:93', id: '93', redisType: 'list' },
    ];
    const a = analyzePayloads(samples);
    expect(a.type).toBe('string');
    expect(a.codec).toBe('json');
    expect(a.ofType).toBe(11);
    expect(a.decodedCount).toBe(8);
    expect(a.fields.map((f) => f.name)).toEqual(['id', 'name', 'email']);
    expect(a.undecodable.map((u) => u.id)).toEqual(['90', '91', '92']);
    expect(a.pttls).toContain(-1);
    expect(a.typeCounts.get('list')).toBe(1);
    expect(markerCandidate(a)).toEqual({ text: '__none__', ids: ['90', '91'] });
  });

  it('reads hashes field by field', () => {
    const hash = (id: string): ValueSample => ({ key: `p:${id}`, id, redisType: 'hash', value: { name: Buffer.from('x'), price: Buffer.from('1.5') }, pttlMs: 5 });
    const a = analyzePayloads([hash('a'), hash('b')]);
    expect(a.type).toBe('hash');
    expect(a.codec).toBeUndefined();
    expect(a.payloads.get('a')).toEqual({ name: 'x', price: '1.5' });
  });

  it('leaves the codec undefined when most strings are plain values (the raw codec)', () => {
    const a = analyzePayloads([str('1', 'Alice'), str('2', 'Bob'), str('3', '{"a":1}')]);
    expect(a.codec).toBeUndefined();
    expect(a.texts.size).toBe(3);
  });
});
