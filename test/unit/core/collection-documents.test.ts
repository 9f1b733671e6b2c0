import { describe, expect, it } from 'vitest';
import { comparePayloads } from '../../../src/core/diff.js';
import type { ChildQuery, FamilyRule } from '../../../src/core/rule.js';
import { DEC, F8, INT, S, TEXT, TS, TSTZ, int8, judge, members, rule, text } from './collection-fixtures.js';

const docs = (overrides: Partial<FamilyRule> = {}): FamilyRule =>
  rule({ type: 'string', codec: 'json', fields: ['id', 'total', 'status', 'at'], many: { ordered: true, member: 'id', orderBy: [{ column: 'at', descending: true }] }, ...overrides });
const COLS = { user_id: INT, id: INT, total: DEC, status: TEXT, at: TSTZ };
const row = (id: number, total: string, at: string) => ({ user_id: int8('7'), id: int8(String(id)), total: int8(total), status: 'paid', at: new Date(at) });

describe('document elements, field by field by their columns types', () => {
  const rows = [row(43, '10.50', '2024-05-02T10:00:00Z'), row(42, '7', '2024-05-01T10:00:00Z')];
  it('Python json.dumps (floats, isoformat) matches', () => {
    const py = '[{"id": 43, "total": 10.5, "status": "paid", "at": "2024-05-02T10:00:00+00:00"}, {"id": 42, "total": 7.0, "status": "paid", "at": "2024-05-01T10:00:00+00:00"}]';
    expect(judge(docs(), text(py), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
  it('Go (RFC 3339 with nanoseconds, member as a string) and Java (epoch ms) match', () => {
    const go = '[{"id":"43","total":"10.50","status":"paid","at":"2024-05-02T12:00:00.000000000+02:00"},{"id":"42","total":"7","status":"paid","at":1714557600000}]';
    expect(judge(docs(), text(go), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
  it('PHP Y-m-d H:i:s against a zone-less timestamp column, in the source time zone', () => {
    const php = '[{"id":43,"total":10.5,"status":"paid","at":"2024-05-02 12:00:00"}]';
    const cols = { ...COLS, at: TS };
    const r = docs({ timeZone: 'Europe/Paris', many: { ordered: false, member: 'id' } });
    expect(judge(r, text(php), members([{ ...row(43, '10.50', '2024-05-02T10:00:00Z'), at: '2024-05-02 12:00:00' }], cols))).toMatchObject({ verdict: 'match' });
  });
  it('a 17-digit double equals the float8 it stands for', () => {
    const r = docs({ fields: ['id', 'ratio'], many: { ordered: false, member: 'id' } });
    expect(judge(r, text('[{"id":1,"ratio":0.30000000000000004}]'), members([{ id: 1, ratio: 0.1 + 0.2 }], { id: INT, ratio: F8 }))).toMatchObject({ verdict: 'match' });
  });
  it('a changed field is named by member: members[42].total', () => {
    const cache = '[{"id":43,"total":10.5,"status":"paid","at":"2024-05-02T10:00:00Z"},{"id":42,"total":10,"status":"paid","at":"2024-05-01T10:00:00Z"}]';
    const changed = [row(43, '10.50', '2024-05-02T10:00:00Z'), row(42, '12', '2024-05-01T10:00:00Z')];
    expect(judge(docs(), text(cache), members(changed, COLS)).diff).toEqual([{ path: 'members[42].total', cache: 10, source: '12' }]);
  });
  it('normalize applies to each element', () => {
    const r = docs({ fields: ['id', 'status'], normalize: { status: [{ name: 'lowercase' }] }, many: { ordered: false, member: 'id' } });
    expect(judge(r, text('[{"id":1,"status":"PAID"}]'), members([{ id: 1, status: 'paid' }], { id: INT, status: TEXT }))).toMatchObject({ verdict: 'match' });
  });
  it('redacted fields stay masked inside elements', () => {
    const r = docs({ fields: ['id', 'card'], redact: ['card'], many: { ordered: false, member: 'id' } });
    const j = judge(r, text('[{"id":1,"card":"4111-1111"}]'), members([{ id: 1, card: '4111-2222' }], { id: INT, card: TEXT }));
    expect(j.diff).toEqual([{ path: 'members[1].card', cache: '***', source: '***' }]);
  });
  it('redact written as a diff path (members[].card) masks too; redacting members hides the whole collection', () => {
    const r = docs({ fields: ['id', 'card'], redact: ['members[].card'], many: { ordered: false, member: 'id' } });
    const j = judge(r, text('[{"id":1,"card":"4111-1111"}]'), members([{ id: 1, card: '4111-2222' }], { id: INT, card: TEXT }));
    expect(j.diff).toEqual([{ path: 'members[1].card', cache: '***', source: '***' }]);
    const whole = judge({ ...r, redact: ['members'] }, text('[{"id":1,"card":"4111-1111"}]'), members([{ id: 2, card: '4111-2222' }], { id: INT, card: TEXT }));
    expect(whole.diff).toEqual([{ path: 'members', cache: '***', source: '***' }]);
  });
  it('a JSON array of plain ids compares each id with the member column', () => {
    expect(judge(docs({ fields: undefined }), text('[43, 42]'), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
});

describe('documents without a member: by position', () => {
  const positional = docs({ fields: ['total'], many: { ordered: true, orderBy: [{ column: 'at', descending: true }] } });
  const rows = [row(43, '10', '2024-05-03T10:00:00Z'), row(42, '7', '2024-05-02T10:00:00Z'), row(41, '5', '2024-05-01T10:00:00Z')];
  it('equal in order: match', () => {
    expect(judge(positional, text('[{"total":10},{"total":7},{"total":5}]'), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
  it('a changed element: members[1].total', () => {
    expect(judge(positional, text('[{"total":10},{"total":8},{"total":5}]'), members(rows, COLS)).diff).toEqual([{ path: 'members[1].total', cache: 8, source: '7' }]);
  });
  it('rows tied on orderBy may be cached in either order (MATCH), also past a limit boundary', () => {
    const tied = [row(43, '10', '2024-05-03T10:00:00Z'), row(42, '7', '2024-05-02T10:00:00Z'), row(41, '5', '2024-05-02T10:00:00Z')];
    expect(judge(positional, text('[{"total":10},{"total":5},{"total":7}]'), members(tied, COLS))).toMatchObject({ verdict: 'match' });
    const limited = { ...positional, many: { ...positional.many!, limit: 2 } };
    expect(judge(limited, text('[{"total":10},{"total":5}]'), members(tied, COLS))).toMatchObject({ verdict: 'match' });
    expect(judge(limited, text('[{"total":7},{"total":10}]'), members(tied, COLS)).verdict).not.toBe('match');
  });
  it('a large collection without orderBy cached in another order still matches (no false divergence)', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ user_id: 7, n: i, label: `item-${i}` }));
    // A fixed shuffle: i -> 7919 i mod 3000 (7919 is prime to 3000, so every row once).
    const cachedOrder = many.map((_, i) => (i * 7919) % 3000).map((i) => ({ n: String(i), label: `item-${i}` }));
    const r = docs({ fields: ['n', 'label'], many: { ordered: true } });
    expect(judge(r, text(JSON.stringify(cachedOrder)), members(many, { user_id: INT, n: INT, label: TEXT }))).toMatchObject({ verdict: 'match' });
  });
  it('a stale order of distinct rows is an order difference, not changed fields', () => {
    const j = judge(positional, text('[{"total":7},{"total":10},{"total":5}]'), members(rows, COLS));
    expect(j.diff).toEqual([{ path: 'members (order)', cache: '(cached order)', source: '(source order)', change: '[0] {"total":7} moved 0 → 1, [1] {"total":10} moved 1 → 0' }]);
  });
  it('a missing last element: +[2]', () => {
    expect(judge(positional, text('[{"total":10},{"total":7}]'), members(rows, COLS)).diff[0]?.change).toBe('+[2] {"total":"5"}');
  });
});

describe('children: documents built from several tables', () => {
  const variants: ChildQuery = { name: 'variants', table: 'variants', key: ['product_id'], ordered: true, orderBy: [{ column: 'sku', descending: false }], member: 'sku', fields: ['sku', 'price'] };
  const product = rule({ name: 'product', type: 'string', codec: 'json', key: ['id'], fields: ['id', 'name'], many: undefined, children: [variants] });
  const cols = { id: INT, name: TEXT, variants: { kind: 'rows' as const, name: 'rows', columns: { product_id: INT, sku: TEXT, price: DEC } } };
  const src = (rows: Record<string, unknown>[]) => ({ kind: 'row' as const, row: { id: 1, name: 'Lamp', variants: rows }, columns: cols });
  const v = (sku: string, price: string) => ({ product_id: 1, sku, price });
  it('a cached document lacking the child field equals no child rows', () => {
    expect(judge(product, text('{"id":1,"name":"Lamp"}'), src([]))).toMatchObject({ verdict: 'match' });
  });
  it('equal child rows (cached without their key column) match', () => {
    expect(judge(product, text('{"id":1,"name":"Lamp","variants":[{"sku":"A","price":10},{"sku":"B","price":"12.50"}]}'), src([v('A', '10.00'), v('B', '12.5')]))).toMatchObject({ verdict: 'match' });
  });
  it('a new child row: variants: +SKU-9', () => {
    const j = judge(product, text('{"id":1,"name":"Lamp","variants":[{"sku":"A","price":10}]}'), src([v('A', '10'), v('SKU-9', '3')]));
    expect(j.diff).toEqual([{ path: 'variants', cache: '1 element', source: '2 rows', change: '+SKU-9' }]);
  });
  it('a changed child field: variants[A].price', () => {
    const j = judge(product, text('{"id":1,"name":"Lamp","variants":[{"sku":"A","price":10}]}'), src([v('A', '12')]));
    expect(j.diff).toEqual([{ path: 'variants[A].price', cache: 10, source: '12' }]);
  });
  it('a child differing makes the change time unknown (step 8), a parent field alone does not (step 7)', () => {
    const dated = { ...product, updatedAt: 'updated_at' };
    const source = (rows: Record<string, unknown>[], name: string) => ({ kind: 'row' as const, row: { id: 1, name, updated_at: new Date(Date.UTC(2026, 0, 1, 11, 59)), variants: rows }, columns: cols });
    expect(judge(dated, text('{"id":1,"name":"Lamp","variants":[{"sku":"A","price":10}]}', 290 * S), source([v('A', '12')], 'Lamp')).step).toBe(8);
    expect(judge(dated, text('{"id":1,"name":"Old","variants":[{"sku":"A","price":10}]}', 290 * S), source([v('A', '10')], 'Lamp')).step).toBe(7);
  });
  it('redact and normalize paths under the child apply inside each element', () => {
    const r = {
      ...product,
      redact: ['variants[].price'],
      normalizePaths: { variants: [{ path: 'variants[].sku', steps: ['[]', 'sku'], specs: [{ name: 'lowercase' as const }] }] },
    };
    const { diff } = comparePayloads(r, { id: 1, name: 'Lamp', variants: [{ sku: 'a', price: 10 }] }, { id: 1, name: 'Lamp', variants: [v('A', '11')] }, cols);
    expect(diff).toEqual([{ path: 'variants[a].price', cache: '***', source: '***' }]);
  });
});

describe('tolerance', () => {
  const counter = rule({ name: 'post-likes', type: 'string', codec: 'raw', key: ['id'], fields: ['likes'], many: undefined, tolerance: { '*': { kind: 'absolute', amount: '2' } } });
  const likes = (n: unknown) => ({ kind: 'row' as const, row: { id: 1, likes: n }, columns: { id: INT, likes: INT } });
  it('a counter within the tolerance matches, beyond it differs', () => {
    const trace: string[] = [];
    expect(judge(counter, text('100'), likes(int8('102')), trace)).toMatchObject({ verdict: 'match', step: 4 });
    expect(trace).toContain('4. compared fields equal, numbers within tolerance (*: 2)');
    expect(judge(counter, text('100'), likes(int8('103'))).diff).toEqual([{ path: 'likes', cache: '100', source: '103' }]);
  });
  it('per field, and relative', () => {
    const r = { ...counter, tolerance: { likes: { kind: 'relative', ratio: 0.01 } as const } };
    expect(judge(r, text('990'), likes(1000))).toMatchObject({ verdict: 'match' });
    expect(judge(r, text('989'), likes(1000)).verdict).not.toBe('match');
  });
  it('never makes text equal', () => {
    expect(judge(counter, text('abc'), likes('abd')).verdict).not.toBe('match');
  });
  it('is exact past 2^53', () => {
    expect(judge(counter, text('9007199254740993'), likes(int8('9007199254740996'))).verdict).not.toBe('match');
    expect(judge(counter, text('9007199254740993'), likes(int8('9007199254740995')))).toMatchObject({ verdict: 'match' });
  });
});

describe('documents without a member: what an insertion looks like', () => {
  it('a row inserted at the front names the documents added and removed, and no moves', () => {
    const top2 = rule({ type: 'string', codec: 'json', many: { ordered: true, orderBy: [{ column: 'won_at', descending: true }], limit: 2 }, fields: ['name'] });
    const cols = { name: TEXT, won_at: TSTZ };
    const rows = [
      { name: 'Cup C', won_at: new Date('2024-05-03T00:00:00Z') },
      { name: 'Cup B', won_at: new Date('2024-05-02T00:00:00Z') },
    ];
    const j = judge(top2, text('[{"name":"Cup B"},{"name":"Cup A"}]'), members(rows, cols));
    expect(j.diff.map((d) => d.change)).toEqual(['+[0] {"name":"Cup C"}, -[1] {"name":"Cup A"}']);
  });
});
