/**
 * Hostile values: whatever a cache holds (random bytes, absurd nesting, NaN, prototype-named keys,
 * numbers past 2^53, terminal escapes), decoding, normalizing, comparing, diffing and reporting
 * must neither throw nor be fooled.
 */
import fc from 'fast-check';
import { LosslessNumber, isLosslessNumber } from 'lossless-json';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyObservation } from '../../../src/core/classify.js';
import { decodeCacheValue, type DecodeResult } from '../../../src/core/codecs.js';
import { valuesEqual } from '../../../src/core/compare.js';
import { diffPayloads } from '../../../src/core/diff.js';
import { normalizeValue } from '../../../src/core/normalize.js';
import type { Observation } from '../../../src/core/observation.js';
import type { FamilyRule, NormalizerSpec } from '../../../src/core/rule.js';
import type { Finding } from '../../../src/core/verdict.js';
import { renderReport, runFor } from '../report/harness.js';

type DecodeRule = Pick<FamilyRule, 'type' | 'codec' | 'fields'>;
type DiffRule = Pick<FamilyRule, 'fields' | 'exclude' | 'normalize' | 'redact'>;

const JSON_RULE: DecodeRule = { type: 'string', codec: 'json' };
const RAW_RULE: DecodeRule = { type: 'string', codec: 'raw', fields: ['value'] };
const HASH_RULE: DecodeRule = { type: 'hash', codec: 'json' };

const ALL_SPECS: NormalizerSpec[] = [
  { name: 'lowercase' },
  { name: 'trim' },
  { name: 'number' },
  { name: 'decimal', places: 0 },
  { name: 'decimal', places: 2 },
  { name: 'decimal', places: 30 },
  { name: 'timestamp' },
  { name: 'boolean' },
  { name: 'sorted' },
  { name: 'json' },
];

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function rule(overrides: Partial<DiffRule> = {}): DiffRule {
  return { normalize: {}, redact: [], ...overrides };
}

function decodeText(text: string): DecodeResult {
  return decodeCacheValue(JSON_RULE, Buffer.from(text, 'utf8'));
}

function payloadOf(text: string): Record<string, unknown> {
  const result = decodeText(text);
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.payload;
}

/** A decode result is either a payload object or a short, non-empty message. */
function expectWellFormed(result: DecodeResult): void {
  if (result.ok) {
    expect(typeof result.payload).toBe('object');
    expect(result.payload).not.toBeNull();
    expect(Array.isArray(result.payload)).toBe(false);
  } else {
    expect(typeof result.error).toBe('string');
    expect(result.error.length).toBeGreaterThan(0);
    expect(result.error.length).toBeLessThanOrEqual(200);
  }
}

/** Object.prototype as it was before any test ran, to prove nothing was added to it. */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeClean(): void {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
}

afterEach(() => {
  // A polluting test must not leak into the next one, even when it fails.
  delete (Object.prototype as Record<string, unknown>)['polluted'];
});

/** Bytes biased towards almost-JSON: random, valid JSON, cut JSON, JSON with random bytes spliced in. */
const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json({ maxDepth: 4 }).map((t) => Buffer.from(t)),
  fc.tuple(fc.json({ maxDepth: 4 }), fc.nat()).map(([t, n]) => Buffer.from(t.slice(0, n % (t.length + 1)))),
  fc
    .tuple(fc.json({ maxDepth: 4 }), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }))
    .map(([t, n, junk]) => {
      const b = Buffer.from(t);
      const at = n % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    }),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(`{"a":"${s}"}`)),
);

describe('decodeCacheValue on arbitrary bytes', () => {
  it('never throws for the json codec: a payload object or an error string', () => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        expectWellFormed(decodeCacheValue(JSON_RULE, Buffer.from(bytes)));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws for the raw codec and keeps the bytes exactly (text when UTF-8)', () => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        const buf = Buffer.from(bytes);
        const result = decodeCacheValue(RAW_RULE, buf);
        expectWellFormed(result);
        if (!result.ok) throw new Error(result.error);
        const value = result.payload['value'];
        if (typeof value === 'string') expect(Buffer.from(value, 'utf8').equals(buf)).toBe(true);
        else expect(Buffer.isBuffer(value) && value.equals(buf)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for hashes, keeps every field (prototype-named ones too) as an own data property', () => {
    const fieldName = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...PROTO_KEYS));
    fc.assert(
      fc.property(fc.array(fc.tuple(fieldName, fc.uint8Array({ maxLength: 40 })), { maxLength: 12 }), (entries) => {
        const map = Object.fromEntries(entries.map(([k, v]) => [k, Buffer.from(v)])) as Record<string, Buffer>;
        const result = decodeCacheValue(HASH_RULE, map);
        expectWellFormed(result);
        if (!result.ok) throw new Error(result.error);
        expect(Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
        expect(Object.keys(result.payload).sort()).toEqual(Object.keys(map).sort());
        for (const key of Object.keys(map)) {
          const bytes = map[key] as Buffer;
          const value = Object.getOwnPropertyDescriptor(result.payload, key)?.value as unknown;
          if (typeof value === 'string') expect(Buffer.from(value, 'utf8').equals(bytes)).toBe(true);
          else expect(Buffer.isBuffer(value) && value.equals(bytes)).toBe(true);
        }
        expectPrototypeClean();
      }),
    );
  });

  it('says which type it got when the rule expects another, without throwing', () => {
    expect(decodeCacheValue(HASH_RULE, Buffer.from('{}'))).toEqual({ ok: false, error: 'expected a hash, got a string value' });
    expect(decodeCacheValue(JSON_RULE, { a: Buffer.from('1') })).toEqual({ ok: false, error: 'expected a string value, got a hash' });
    expect(decodeCacheValue({ type: 'string', codec: 'zstd-json' as never }, Buffer.from('x'))).toEqual({ ok: false, error: 'unknown codec "zstd-json"' });
  });

  it('round-trips any JSON object exactly (valuesEqual to what was written)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (object) => {
        const payload = payloadOf(JSON.stringify(object));
        expect(valuesEqual(payload, object)).toBe(true);
        expect(diffPayloads(rule(), payload, object)).toEqual([]);
      }),
    );
  });
});

describe('absurd nesting', () => {
  const DEPTH = 10_000;
  const deepArray = `{"x":${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}}`;
  const deepObject = `{"x":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}`;
  // A number a double cannot carry sends the text through lossless-json, a recursive parser.
  const deepLossless = `{"big":12345678901234567890,"x":${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}}`;

  it('decoding JSON nested 10,000 (and 100,000) deep never throws', () => {
    for (const text of [deepArray, deepObject, deepLossless, `{"x":${'['.repeat(100_000)}}`, `{"x":${'['.repeat(100_000)}1${']'.repeat(100_000)}}`]) {
      expectWellFormed(decodeText(text));
    }
  });

  it('JSON nested 10,000 deep is undecodable on the lossless-json path', () => {
    expect(decodeText(deepLossless)).toEqual({ ok: false, error: 'invalid JSON: nested too deeply' });
  });

  // On the JSON.parse path V8 parses any depth; comparing such a value would overflow the stack.
  // The classifier catches that: the key is error/undecodable and the audit goes on.
  it('a value nested 10,000 deep is judged error/undecodable instead of ending the audit', () => {
    for (const text of [deepArray, deepObject]) {
      const obs: Observation = {
        key: 'k:1',
        cache: { kind: 'present', redisType: 'string', value: Buffer.from(text), pttlMs: 1000 },
        source: { kind: 'row', row: { id: 1 } },
        nowMs: Date.now(),
      };
      const family: FamilyRule = {
        name: 'deep',
        pattern: { source: 'k:{id}', glob: 'k:*', placeholders: ['id'], match: () => '1', render: (id) => `k:${id}` },
        type: 'string',
        codec: 'json',
        source: 'main',
        key: ['id'],
        ttlMs: 60_000,
        maxStalenessMs: 60_000,
        clockSkewMs: 1000,
        normalize: {},
        redact: [],
      };
      const judged = classifyObservation(family, obs);
      expect(judged).toMatchObject({ verdict: 'error', reason: 'undecodable', detail: 'value nested too deeply to compare' });
    }
  });

  it('values nested 1,000 deep (what the decoder should still accept) compare and diff without throwing', () => {
    const a = payloadOf(`{"x":${'['.repeat(1000)}1${']'.repeat(1000)}}`);
    const b = payloadOf(`{"x":${'['.repeat(1000)}2${']'.repeat(1000)}}`);
    expect(valuesEqual(a, b)).toBe(false);
    expect(valuesEqual(a, payloadOf(`{"x":${'['.repeat(1000)}1${']'.repeat(1000)}}`))).toBe(true);
    expect(diffPayloads(rule(), a, b)).toHaveLength(1);
    expect(diffPayloads(rule(), a, {})).toHaveLength(1);
  });
});

describe('NaN and Infinity', () => {
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  const specs = fc.constantFrom(...ALL_SPECS);
  const oddNumbers = [NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE];

  it('no normalizer throws on them, alone or inside arrays', () => {
    for (const spec of ALL_SPECS) {
      for (const n of oddNumbers) {
        expect(() => normalizeValue(spec, n)).not.toThrow();
        expect(() => normalizeValue(spec, [n, String(n), 1])).not.toThrow();
        expect(() => normalizeValue(spec, String(n))).not.toThrow();
      }
    }
  });

  it('NaN never equals a number, a numeric string or a boolean, before or after normalization', () => {
    fc.assert(
      fc.property(finite, specs, (n, spec) => {
        for (const other of [n, String(n), new LosslessNumber(String(n === 0 ? 0 : n)), n !== 0, BigInt(Math.trunc(n) || 0)]) {
          expect(valuesEqual(NaN, other)).toBe(false);
          expect(valuesEqual(other, NaN)).toBe(false);
          expect(valuesEqual(normalizeValue(spec, NaN), normalizeValue(spec, other))).toBe(false);
          expect(valuesEqual(normalizeValue(spec, other), normalizeValue(spec, NaN))).toBe(false);
        }
      }),
    );
  });

  it('Infinity equals only itself among numbers', () => {
    fc.assert(
      fc.property(finite, (n) => {
        expect(valuesEqual(Infinity, n)).toBe(false);
        expect(valuesEqual(-Infinity, n)).toBe(false);
        expect(valuesEqual(n, Infinity)).toBe(false);
        expect(valuesEqual(Infinity, String(n))).toBe(false);
      }),
    );
    expect(valuesEqual(Infinity, Infinity)).toBe(true);
    expect(valuesEqual(Infinity, -Infinity)).toBe(false);
    expect(valuesEqual(NaN, Infinity)).toBe(false);
  });

  it('diffs them without throwing, and shows them', () => {
    for (const n of oddNumbers) {
      for (const other of [1, null, 'NaN', [n], { v: n }]) {
        expect(() => diffPayloads(rule(), { v: n }, { v: other })).not.toThrow();
      }
    }
    expect(diffPayloads(rule(), { v: NaN }, { v: 1 })).toEqual([{ path: 'v', cache: 'NaN', source: 1 }]);
  });
});

describe('prototype-named keys', () => {
  it('decoding {"__proto__":{"polluted":1}} does not pollute Object.prototype and keeps an own field', () => {
    for (const text of [
      '{"__proto__":{"polluted":1}}',
      '{"__proto__":{"polluted":1},"big":12345678901234567890}', // the lossless-json path
      '{"a":{"__proto__":{"polluted":1}}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"a":[{"__proto__":{"polluted":1}}]}',
    ]) {
      const payload = payloadOf(text);
      expectPrototypeClean();
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    }
    const payload = payloadOf('{"__proto__":{"polluted":1}}');
    expect(Object.keys(payload)).toEqual(['__proto__']);
    expect((Object.getOwnPropertyDescriptor(payload, '__proto__')?.value as Record<string, unknown>)['polluted']).toBe(1);
  });

  it('hash fields named __proto__, constructor and prototype are ordinary fields', () => {
    const result = decodeCacheValue(HASH_RULE, Object.fromEntries([
      ['__proto__', Buffer.from('{"polluted":1}')],
      ['constructor', Buffer.from('x')],
      ['prototype', Buffer.from('y')],
    ]) as Record<string, Buffer>);
    if (!result.ok) throw new Error(result.error);
    expectPrototypeClean();
    expect(Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
    expect(Object.keys(result.payload).sort()).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getOwnPropertyDescriptor(result.payload, '__proto__')?.value).toBe('{"polluted":1}');
  });

  it('compares them as ordinary fields (property: the diff is empty iff the values are equal)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), (key, a, b) => {
        const cache = payloadOf(`{${JSON.stringify(key)}:${JSON.stringify(a)}}`);
        const source = Object.fromEntries([[key, b]]) as Record<string, unknown>;
        const equal = valuesEqual(a, b);
        expect(valuesEqual(cache, source)).toBe(equal);
        const diff = diffPayloads(rule(), cache, source);
        expect(diff.length === 0).toBe(equal);
        if (!equal) expect(diff.every((d) => d.path.startsWith(key))).toBe(true);
        expect(diffPayloads(rule({ fields: [key] }), cache, source).length === 0).toBe(equal);
        // Absent on one side: a difference unless the value is null, never a read of Object.prototype.
        expect(diffPayloads(rule(), cache, {}).length === 0).toBe(a === null);
        expect(diffPayloads(rule({ fields: [key] }), {}, {})).toEqual([]);
        expectPrototypeClean();
      }),
    );
  });

  it('reports a differing __proto__ field by its name', () => {
    const cache = payloadOf('{"__proto__":{"role":"admin"}}');
    const source = Object.fromEntries([['__proto__', { role: 'user' }]]) as Record<string, unknown>;
    expect(diffPayloads(rule(), cache, source)).toEqual([{ path: '__proto__.role', cache: 'admin', source: 'user' }]);
    expect(diffPayloads(rule(), cache, {})).toEqual([{ path: '__proto__', cache: { role: 'admin' }, source: null }]);
  });
});

describe('numbers beyond 2^53', () => {
  const TWO_53 = 2n ** 53n;
  const bigInts = fc.oneof(
    fc.bigInt({ min: -(2n ** 90n), max: 2n ** 90n }),
    fc.bigInt({ min: TWO_53 - 50n, max: TWO_53 + 50n }),
    fc.bigInt({ min: -TWO_53 - 50n, max: -TWO_53 + 50n }),
  );
  /** b itself, b ± a small delta, or another big integer. */
  const pairs = bigInts.chain((a) =>
    fc.tuple(fc.constant(a), fc.oneof(fc.constant(a), fc.integer({ min: -3, max: 3 }).map((d) => a + BigInt(d)), bigInts)),
  );
  /** Equal spellings of the same integer a source may return. */
  // `${b * 10n}e-1`, not `${b}0e-1`: for 0 that would spell 00e-1, which is not a number.
  const spellings = (b: bigint): string[] => [b.toString(), `${b}.0`, `${b}e0`, `${b * 10n}e-1`, `${b * 1000n}e-3`];

  it('a cached integer equals a source LosslessNumber or numeric string iff they are the same integer', () => {
    fc.assert(
      fc.property(pairs, fc.nat(4), ([a, b], which) => {
        const cached = payloadOf(`{"v":${a}}`)['v'];
        const text = spellings(b)[which] as string;
        expect(valuesEqual(cached, new LosslessNumber(text))).toBe(a === b);
        expect(valuesEqual(cached, text)).toBe(a === b);
        expect(valuesEqual(cached, b)).toBe(a === b);
        // A hash field is a string, compared against the column's exact number.
        expect(valuesEqual(a.toString(), new LosslessNumber(text))).toBe(a === b);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps 2^53 + 1 apart from 2^53 (no double rounding anywhere)', () => {
    const cached = payloadOf(`{"v":${TWO_53 + 1n}}`)['v'];
    expect(isLosslessNumber(cached)).toBe(true);
    expect(valuesEqual(cached, Number(TWO_53))).toBe(false);
    expect(valuesEqual(cached, (TWO_53 + 1n).toString())).toBe(true);
    expect(diffPayloads(rule(), { v: cached }, { v: TWO_53.toString() })).toEqual([{ path: 'v', cache: '9007199254740993', source: '9007199254740992' }]);
  });
});

describe('the decimal normalizer', () => {
  const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: max });
  const decimalText = fc
    .tuple(fc.boolean(), digits(30), fc.option(digits(30), { nil: undefined }))
    .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
  const places = fc.integer({ min: 0, max: 12 });

  /** Half away from zero on the decimal text itself, with bigint: what `decimal:N` promises. */
  function reference(text: string, p: number): string {
    const neg = text.startsWith('-');
    const [int = '', frac = ''] = (neg ? text.slice(1) : text).split('.');
    let scaled = BigInt(int + frac.padEnd(p, '0').slice(0, p));
    if ((frac[p] ?? '0') >= '5') scaled += 1n;
    let out = scaled.toString();
    if (p > 0) {
      out = out.padStart(p + 1, '0');
      out = `${out.slice(0, -p)}.${out.slice(-p)}`;
    }
    return neg && scaled !== 0n ? `-${out}` : out;
  }

  it('rounds exactly, never through a float', () => {
    fc.assert(
      fc.property(decimalText, places, (text, p) => {
        expect(normalizeValue({ name: 'decimal', places: p }, text)).toBe(reference(text, p));
      }),
      { numRuns: 500 },
    );
    expect(normalizeValue({ name: 'decimal', places: 2 }, '12345678901234567.125')).toBe('12345678901234567.13');
    expect(normalizeValue({ name: 'decimal', places: 2 }, 1.005)).toBe('1.01'); // the float 1.005 would round to 1.00
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(decimalText, fc.double({ noNaN: true, noDefaultInfinity: true })), places, (value, p) => {
        const spec: NormalizerSpec = { name: 'decimal', places: p };
        const once = normalizeValue(spec, value);
        expect(normalizeValue(spec, once)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same text for a string, its LosslessNumber and a safe double', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }), fc.nat(40), places, (unscaled, scale, p) => {
        const text = (Number(scale) === 0 ? unscaled.toString() : `${unscaled}e-${scale}`);
        const spec: NormalizerSpec = { name: 'decimal', places: p };
        expect(normalizeValue(spec, new LosslessNumber(text))).toBe(normalizeValue(spec, text));
      }),
    );
  });

  it('leaves what is not a number unchanged', () => {
    for (const v of ['abc', '', '1.2.3', NaN, Infinity, true, [1], { a: 1 }]) {
      expect(normalizeValue({ name: 'decimal', places: 2 }, v)).toBe(v);
    }
  });
});

describe('diffPayloads on arbitrary values', () => {
  const hostileSource = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -0, 12345678901234567890n, new Date(NaN), new Date(0), Buffer.from([0xff, 0x00, 0x1b])),
    fc.bigInt().map((n) => new LosslessNumber(n.toString())),
  );
  const fieldName = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...PROTO_KEYS, 'a.b', 'a[0]', '"', ''));
  const specFor = fc.option(fc.constantFrom(...ALL_SPECS), { nil: undefined });

  it('never throws, and is empty iff the payloads are equal', () => {
    fc.assert(
      fc.property(fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 3 })), fc.dictionary(fieldName, hostileSource), (cacheObject, source) => {
        const cache = payloadOf(JSON.stringify(cacheObject));
        const diff = diffPayloads(rule(), cache, source);
        expect(diff.length === 0).toBe(valuesEqual(cache, source));
        for (const d of diff) expect(typeof d.path).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('for top-level scalar fields, is [] iff valuesEqual, with or without a normalizer', () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.double(),
      fc.integer().map(String),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('1', '0', 't', 'yes', 'TRUE', ' 42 ', '2024-05-01T10:00:00Z', '1714557600000', '1e3', '-0'),
    );
    fc.assert(
      fc.property(scalar, scalar, specFor, (a, b, spec) => {
        const r = rule(spec === undefined ? {} : { normalize: { f: [spec] } });
        const diff = diffPayloads(r, { f: a }, { f: b });
        const na = spec === undefined ? a : normalizeValue(spec, a);
        const nb = spec === undefined ? b : normalizeValue(spec, b);
        expect(diff.length === 0).toBe(valuesEqual(na, nb));
        if (diff.length > 0) expect(diff).toHaveLength(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws with any normalizer on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...ALL_SPECS), (a, b, spec) => {
        expect(() => diffPayloads(rule({ normalize: { f: [spec] } }), { f: a }, { f: b })).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('table reporter escaping', () => {
  const nasty = fc.constantFrom(
    '\u001b',
    '\u001b[2J',
    '\u001b[31m',
    '\u001b]0;owned\u0007',
    '\u009b',
    '\u009b2J',
    '\r',
    '\b',
    '\u0007',
    '\u0000',
    '\u007f',
    '\u202e',
    '\u2028',
    '\n',
    '\t',
  );
  const hostileText = fc.string({ unit: fc.oneof(nasty, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 30 });
  const hostileValue = fc.oneof(hostileText, fc.array(hostileText, { maxLength: 3 }), fc.dictionary(hostileText, hostileText, { maxKeys: 3 }));

  const finding = fc.record({
    key: hostileText,
    family: hostileText,
    path: hostileText,
    cache: hostileValue,
    source: hostileValue,
    detail: hostileText,
    version: hostileText,
    verdict: fc.constantFrom('divergent', 'error', 'within-ttl', 'skipped'),
  });

  /** C0 controls but newline, DEL, C1 controls, bidi overrides and isolates, line/paragraph separators. */
  function isUnsafeForTerminal(ch: string): boolean {
    const c = ch.codePointAt(0) ?? 0;
    return (
      (c <= 0x1f && c !== 0x0a) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0x2028 ||
      c === 0x2029
    );
  }

  function toFinding(f: {
    key: string;
    family: string;
    path: string;
    cache: unknown;
    source: unknown;
    detail: string;
    version: string;
    verdict: 'divergent' | 'error' | 'within-ttl' | 'skipped';
  }): Finding {
    const reason = { divergent: 'payload-drift', error: 'undecodable', 'within-ttl': 'ttl-bounded', skipped: 'wrong-type' } as const;
    return {
      key: f.key,
      family: f.family,
      verdict: f.verdict,
      reason: reason[f.verdict],
      step: 8,
      pttlMs: 1000,
      diff: [{ path: f.path, cache: f.cache, source: f.source }],
      detail: f.detail,
      cacheVersion: f.version,
      sourceVersion: f.version,
    };
  }

  it('never writes a raw ESC (or any other control character but newline) in non-colour output', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(finding, { minLength: 1, maxLength: 4 }), hostileText, async (raw, abortReason) => {
        const findings = raw.map(toFinding);
        const out = await renderReport('table', findings, { run: runFor(findings, { incomplete: true, abortReason }) });
        expect(out).not.toContain('\u001b');
        expect(out).not.toContain('\u009b');
        expect(Array.from(out).filter(isUnsafeForTerminal)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('shows the escape instead of acting on it', async () => {
    const f = toFinding({ key: 'user:\u001b[2J1', family: 'users', path: 'name', cache: 'a\u001b[31mred', source: 'b', detail: 'x', version: '1', verdict: 'divergent' });
    const out = await renderReport('table', [f]);
    expect(out).toContain('user:\\x1b[2J1');
    expect(out).toContain('a\\x1b[31mred');
  });
});
