import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { isRedactedPath, mayDescend, redactValue } from '../../../src/core/redaction.js';
import { REDACTED } from '../../../src/core/verdict.js';

const STREET = ['address.street'];

describe('isRedactedPath', () => {
  it('matches a path as written, and `[]` entries at any index', () => {
    expect(isRedactedPath(['email'], 'email')).toBe(true);
    expect(isRedactedPath(STREET, 'address.street')).toBe(true);
    expect(isRedactedPath(STREET, 'address')).toBe(false);
    expect(isRedactedPath(['items[].card'], 'items[7].card')).toBe(true);
    expect(isRedactedPath(['items[2].card'], 'items[7].card')).toBe(false);
    expect(isRedactedPath([], 'email')).toBe(false);
  });
});

describe('redactValue: the expected shape', () => {
  it('masks the redacted member of an object and keeps its siblings', () => {
    expect(redactValue(STREET, 'address', { street: '1 Secret St', city: 'Paris' })).toEqual({ street: REDACTED, city: 'Paris' });
  });

  it('masks under every element of an array for a `[]` entry', () => {
    expect(redactValue(['items[].card'], 'items', [{ card: '4111', n: 1 }, { n: 2 }])).toEqual([{ card: REDACTED, n: 1 }, { n: 2 }]);
  });

  it('leaves the value itself untouched (it is compared as it is)', () => {
    const value = { street: '1 Secret St' };
    redactValue(STREET, 'address', value);
    expect(value).toEqual({ street: '1 Secret St' });
  });

  it('returns the very same value when nothing under the path is redacted', () => {
    const value = { plan: 'pro' };
    expect(redactValue(STREET, 'meta', value)).toBe(value);
    expect(redactValue([], 'address', value)).toBe(value);
  });
});

describe('redactValue: a parent of another shape is masked whole', () => {
  it.each([
    ['a string holding the street', '1 Secret St'],
    ['a JSON string holding it', '{"street":"1 Secret St"}'],
    ['a number', 4111111111111111],
    ['an exact number', new LosslessNumber('41111111111111111111')],
    ['a boolean', true],
    ['an array where an object is expected', ['1 Secret St']],
    ['an array of objects where an object is expected', [{ street: '1 Secret St' }]],
    ['bytes', Buffer.from('1 Secret St')],
    ['a Map', new Map([['street', '1 Secret St']])],
    ['a date', new Date(0)],
  ])('%s', (_, value) => {
    expect(redactValue(STREET, 'address', value)).toBe(REDACTED);
  });

  it('an object where a `[]` entry expects an array', () => {
    expect(redactValue(['items[].card'], 'items', { card: '4111' })).toBe(REDACTED);
  });

  it('deeper down: a string where address.geo.lat expects geo to be an object', () => {
    expect(redactValue(['address.geo.lat'], 'address', { geo: '48.85,2.35', city: 'Paris' })).toEqual({ geo: REDACTED, city: 'Paris' });
  });

  it('null and absent hold nothing and are shown as they are', () => {
    expect(redactValue(STREET, 'address', null)).toBeNull();
    expect(redactValue(STREET, 'address', undefined)).toBeUndefined();
  });

  it('keeps a member named __proto__ a member', () => {
    const value = JSON.parse('{"__proto__":{"street":"x"},"street":"y"}') as Record<string, unknown>;
    const shown = redactValue(['a.street', 'a.__proto__.street'], 'a', value) as Record<string, unknown>;
    expect(Object.keys(shown)).toEqual(['__proto__', 'street']);
    expect(JSON.stringify(shown)).not.toMatch(/"x"|"y"/);
  });
});

describe('mayDescend', () => {
  it('a diff may name members only of the shape a redacted path below expects', () => {
    expect(mayDescend(STREET, 'address', 'object')).toBe(true);
    expect(mayDescend(STREET, 'address', 'array')).toBe(false);
    expect(mayDescend(['items[].card'], 'items', 'array')).toBe(true);
    expect(mayDescend(['items[].card'], 'items', 'object')).toBe(false);
    expect(mayDescend(STREET, 'tags', 'array')).toBe(true);
  });
});
