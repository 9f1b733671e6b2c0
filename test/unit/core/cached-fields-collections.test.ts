import { describe, expect, it } from 'vitest';
import { CachedFieldSample, expectedCachedFields } from '../../../src/core/cached-fields.js';
import type { CacheRead } from '../../../src/core/observation.js';
import { rule } from './collection-fixtures.js';

const json = (value: unknown): CacheRead => ({ kind: 'present', redisType: 'string', value: Buffer.from(JSON.stringify(value)), pttlMs: 1000 });
const list = (items: unknown[]): CacheRead => ({ kind: 'present', redisType: 'list', value: items.map((i) => Buffer.from(JSON.stringify(i))), pttlMs: 1000 });

describe('cached fields of rows: many families are each element’s', () => {
  it('raw elements expect no field', () => {
    expect(expectedCachedFields(rule({ fields: ['id'] }))).toEqual([]);
  });
  it('document elements holding the fields: no "field never cached" warning', () => {
    const sample = new CachedFieldSample(rule({ codec: 'json', fields: ['id', 'total'] }));
    sample.offer(list([{ id: 1, total: 2 }, { id: 2 }]));
    expect(sample.count).toBe(1);
    expect(sample.warnings()).toEqual([]);
  });
  it('a field no element holds is warned about', () => {
    const sample = new CachedFieldSample(rule({ codec: 'json', fields: ['id', 'Total'] }));
    sample.offer(list([{ id: 1, total: 2 }]));
    expect(sample.warnings().map((w) => w.field)).toEqual(['Total']);
  });
  it('an empty collection is not a sample', () => {
    const sample = new CachedFieldSample(rule({ type: 'string', codec: 'json', fields: ['id', 'total'] }));
    sample.offer(json([]));
    expect(sample.count).toBe(0);
    expect(sample.warnings()).toEqual([]);
  });
  it('a child field a document lacks is no warning (it equals no child rows)', () => {
    const r = rule({ codec: 'json', type: 'string', many: undefined, fields: ['name', 'variants'], children: [{ name: 'variants', key: ['product_id'], ordered: true }] });
    expect(expectedCachedFields(r)).toEqual(['name']);
  });
});
