import { describe, expect, it } from 'vitest';
import { exactNumber } from '../../../src/core/decimal.js';
import { inferNormalizers } from '../../../src/init/normalizers.js';

describe('inferNormalizers', () => {
  it('proposes lowercase for a field that differs only by letter case in most rows', () => {
    const pairs = Array.from({ length: 10 }, (_, i) => ({ cache: { email: `USER${i}@X.COM`, plan: 'pro' }, row: { email: `user${i}@x.com`, plan: i < 2 ? 'basic' : 'pro' } }));
    expect(inferNormalizers(pairs, ['email', 'plan'])).toEqual([{ field: 'email', normalizer: 'lowercase', compared: 10, differing: 10, fixed: 10 }]);
  });

  it('proposes nothing for ordinary staleness, which no normalizer removes', () => {
    const pairs = Array.from({ length: 10 }, (_, i) => ({ cache: { name: i < 4 ? 'old' : 'new' }, row: { name: 'new' } }));
    expect(inferNormalizers(pairs, ['name'])).toEqual([]);
  });

  it('needs the normalizer to explain most differences of its field, and several of them', () => {
    const mixed = [
      ...Array.from({ length: 3 }, () => ({ cache: { n: 'A' }, row: { n: 'a' } })),
      ...Array.from({ length: 3 }, () => ({ cache: { n: 'b' }, row: { n: 'c' } })),
    ];
    expect(inferNormalizers(mixed, ['n'])).toEqual([]);
    expect(inferNormalizers([{ cache: { n: 'A' }, row: { n: 'a' } }], ['n'])).toEqual([]);
  });

  it('needs no normalizer where the comparison already follows the drivers (DECIMAL, TINYINT(1), dates)', () => {
    const pairs = Array.from({ length: 5 }, () => ({ cache: { price: '19.9', in_stock: 'true', at: '2024-01-01T00:00:00Z' }, row: { price: exactNumber('19.90'), in_stock: true, at: new Date('2024-01-01T00:00:00Z') } }));
    expect(inferNormalizers(pairs, ['price', 'in_stock', 'at'])).toEqual([]);
  });

  it('proposes trim and timestamp where they remove the differences', () => {
    const pairs = Array.from({ length: 5 }, (_, i) => ({ cache: { t: ` x${i} `, at: 1_704_067_200 + i }, row: { t: `x${i}`, at: new Date((1_704_067_200 + i) * 1000) } }));
    expect(inferNormalizers(pairs, ['t', 'at']).map((n) => [n.field, n.normalizer])).toEqual([
      ['t', 'trim'],
      ['at', 'timestamp'],
    ]);
  });
});
