import { describe, expect, it } from 'vitest';
import { shownPayload } from '../../../src/audit/explain.js';
import { rule } from '../core/collection-fixtures.js';

describe('explain shows a rows: many payload element by element, redacted as the reports are', () => {
  it('document elements: normalize and redact apply to each element', () => {
    const r = rule({ codec: 'json', type: 'string', fields: ['id', 'email', 'status'], redact: ['email'], normalize: { status: [{ name: 'lowercase' }] } });
    const shown = shownPayload(r, { members: [{ id: 1, email: 'ada@x.io', status: 'PAID' }] });
    expect(shown).toEqual({ members: [{ id: 1, email: '***', status: 'paid' }] });
  });
  it('raw elements of a redacted member column are masked', () => {
    const r = rule({ type: 'set', many: { ordered: false, member: 'email' }, redact: ['email'] });
    expect(shownPayload(r, { members: ['ada@x.io'] })).toEqual({ members: ['***'] });
  });
  it('zset members keep their scores as Redis spells them; a redacted score column is masked', () => {
    const r = rule({ type: 'zset', many: { ordered: false, member: 'player', score: 'points' } });
    expect(shownPayload(r, { members: [{ member: 'alice', score: 'inf' }] })).toEqual({ members: [{ member: 'alice', score: 'inf' }] });
    expect(shownPayload({ ...r, redact: ['points'] }, { members: [{ member: 'alice', score: '10' }] })).toEqual({ members: [{ member: 'alice', score: '***' }] });
  });
  it('source rows show the same way', () => {
    const r = rule({ codec: 'json', type: 'string', redact: ['email'] });
    expect(shownPayload(r, { members: [{ user_id: 7n, email: 'ada@x.io' }] })).toEqual({ members: [{ user_id: '7', email: '***' }] });
  });
  it('a document with children: redact paths under the child mask each child row', () => {
    const r = rule({ many: undefined, codec: 'json', type: 'string', redact: ['variants[].cost'], children: [{ name: 'variants', key: ['product_id'], ordered: true }] });
    expect(shownPayload(r, { id: 1, variants: [{ sku: 'A', cost: 3 }] })).toEqual({ id: 1, variants: [{ sku: 'A', cost: '***' }] });
  });
});
