import { describe, expect, it } from 'vitest';
import { CachedFieldSample, expectedCachedFields } from '../../../src/core/cached-fields.js';
import type { CacheRead } from '../../../src/core/observation.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { compilePattern } from '../../../src/config/key-pattern.js';

function rule(overrides: Partial<FamilyRule> = {}): FamilyRule {
  return {
    name: 'user',
    pattern: compilePattern('user:{id}'),
    type: 'string',
    codec: 'json',
    source: 'main',
    key: ['id'],
    ttlMs: 300_000,
    maxStalenessMs: 300_000,
    clockSkewMs: 1000,
    normalize: {},
    redact: [],
    ...overrides,
  };
}

const json = (value: unknown): CacheRead => ({ kind: 'present', redisType: 'string', value: Buffer.from(JSON.stringify(value)), pttlMs: 1000 });

describe('cached fields: a compared field no sampled cache value holds', () => {
  it('expects the listed fields and normalize targets, never key columns', () => {
    const r = rule({ fields: ['id', 'name'], normalize: { email: [{ name: 'trim' }] }, normalizePaths: { meta: [{ path: 'meta.at', steps: ['at'], specs: [] }] } });
    expect(expectedCachedFields(r)).toEqual(['name', 'email', 'meta']);
  });

  it('warns about a field none of the sampled values holds, and not about one some value holds', () => {
    const sample = new CachedFieldSample(rule({ fields: ['name', 'nickname', 'plan'] }));
    sample.offer(json({ name: 'a', plan: null }));
    sample.offer(json({ name: 'b' }));
    expect(sample.warnings()).toEqual([
      {
        kind: 'rules',
        family: 'user',
        field: 'nickname',
        message: expect.stringContaining('field "nickname" is compared, but none of the 2 sampled cache values holds it') as string,
      },
    ]);
  });

  it('says nothing when no value could be sampled (gone, undecodable, the negative marker, another type)', () => {
    const sample = new CachedFieldSample(rule({ fields: ['name'], negativeMarker: '__none__' }));
    sample.offer({ kind: 'gone' });
    sample.offer({ kind: 'present', redisType: 'string', value: Buffer.from('not json'), pttlMs: 1 });
    sample.offer({ kind: 'present', redisType: 'string', value: Buffer.from('__none__'), pttlMs: 1 });
    sample.offer({ kind: 'present', redisType: 'hash', value: { name: Buffer.from('x') }, pttlMs: 1 });
    expect(sample.count).toBe(0);
    expect(sample.warnings()).toEqual([]);
  });

  it('reads hash fields, and exempts a hash that does not hold its own key column', () => {
    const sample = new CachedFieldSample(rule({ type: 'hash', fields: ['sku', 'price', 'Name'], key: ['sku'] }));
    sample.offer({ kind: 'present', redisType: 'hash', value: { price: Buffer.from('1.50'), name: Buffer.from('x') }, pttlMs: 1 });
    expect(sample.warnings().map((w) => w.field)).toEqual(['Name']);
  });

  it('stops at its limit and has nothing to do without expected fields', () => {
    const sample = new CachedFieldSample(rule({ fields: ['name'] }), 2);
    for (let i = 0; i < 5; i++) sample.offer(json({}));
    expect(sample.count).toBe(2);
    expect(sample.full).toBe(true);
    expect(new CachedFieldSample(rule({ exclude: ['x'] })).full).toBe(true);
  });
});
