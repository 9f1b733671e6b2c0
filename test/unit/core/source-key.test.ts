import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idFromParts, idParts, rowId } from '../../../src/core/source-key.js';

describe('source keys', () => {
  it('keeps a one-part id as the captured text, and joins several as a JSON array', () => {
    expect(idFromParts(['42'])).toBe('42');
    expect(idFromParts(['acme', '42'])).toBe('["acme","42"]');
    expect(idParts('42', 1)).toEqual(['42']);
    expect(idParts('["acme","42"]', 2)).toEqual(['acme', '42']);
  });

  it('round-trips any parts, quotes and backslashes included', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), (parts) => {
        expect(idParts(idFromParts(parts), parts.length)).toEqual(parts);
      }),
    );
  });

  it('refuses an id that is not the expected number of parts', () => {
    expect(() => idParts('["a"]', 2)).toThrow(/not a list of 2 parts/);
    expect(() => idParts('[1,2]', 2)).toThrow(/not a list of 2 parts/);
  });

  it("spells a row's id from its key columns the way a key spells it, and skips a row with a null part", () => {
    expect(rowId({ tenant_id: 'acme', id: 42, name: 'x' }, ['tenant_id', 'id'])).toBe('["acme","42"]');
    expect(rowId({ id: 7n }, ['id'])).toBe('7');
    expect(rowId({ tenant_id: null, id: 1 }, ['tenant_id', 'id'])).toBeUndefined();
    expect(rowId({ id: 1 }, ['tenant_id', 'id'])).toBeUndefined();
  });
});
