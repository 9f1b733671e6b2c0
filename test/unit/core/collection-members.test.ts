import { describe, expect, it } from 'vitest';
import { outOfOrder } from '../../../src/core/collection-diff.js';
import { DEC, F8, INT, S, TEXT, TSTZ, elements, int8, judge, members, rule, scored, text } from './collection-fixtures.js';

const ORDER = { ordered: true, member: 'id', orderBy: [{ column: 'created_at', descending: true }] } as const;
const COLS = { user_id: INT, id: INT, created_at: TSTZ };
const at = (iso: string): Date => new Date(iso);
const r = (id: number | string, created: string) => ({ user_id: int8('7'), id: typeof id === 'number' ? int8(String(id)) : id, created_at: at(created) });

describe('raw elements compare with the member column by its type', () => {
  it('ids written by Python, Go and PHP (text) equal pg int8 in any of its forms', () => {
    const rows = [{ user_id: 7, id: int8('9007199254740993') }, { user_id: 7, id: 42n }, { user_id: 7, id: '43' }, { user_id: 7, id: 44 }];
    const j = judge(rule({ many: { ordered: false, member: 'id' }, type: 'set' }), elements('set', ['44', '9007199254740993', '43', '42']), members(rows, { user_id: INT, id: INT }));
    expect(j).toMatchObject({ verdict: 'match', step: 4 });
  });
  it('an id past 2^53 one off is a difference, not a match', () => {
    const rows = [{ user_id: 7, id: int8('9007199254740993') }];
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'id' } }), elements('set', ['9007199254740992']), members(rows, { user_id: INT, id: INT }));
    expect(j.diff).toEqual([{ path: 'members', cache: '1 element', source: '1 row', change: '+9007199254740993, -9007199254740992' }]);
  });
  it('a text member column keeps "042" and "42" apart', () => {
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'sku' } }), elements('set', ['042']), members([{ user_id: 7, sku: '42' }], { user_id: INT, sku: TEXT }));
    expect(j.diff[0]?.change).toBe('+42, -042');
  });
  it('timestamps are members by instant: Go RFC 3339 with nanoseconds, Python isoformat, Java epoch ms', () => {
    const rows = [{ user_id: 7, at: at('2024-05-01T10:00:00.123Z') }, { user_id: 7, at: at('2024-05-01T11:00:00Z') }, { user_id: 7, at: at('2024-05-01T12:00:00Z') }];
    const cache = ['2024-05-01T12:00:00.123000000+02:00', '2024-05-01T11:00:00+00:00', '1714564800000'];
    // 12:00+02:00 is 10:00Z; 1714564800000 is 12:00Z.
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'at' } }), elements('set', cache), members(rows, { user_id: INT, at: TSTZ }));
    expect(j).toMatchObject({ verdict: 'match' });
  });
});

describe('member identity across forms', () => {
  const set = (member: string) => rule({ type: 'set', many: { ordered: false, member } });
  it('a float8 member cached with 17 digits (Java, Python repr of old) is the same double', () => {
    const j = judge(set('ratio'), elements('set', ['0.10000000000000001', '0.30000000000000004']), members([{ ratio: 0.1 }, { ratio: 0.1 + 0.2 }], { ratio: F8 }));
    expect(j).toMatchObject({ verdict: 'match' });
  });
  it('a bytes member cached as Go base64, pg hex or UTF-8 text', () => {
    const rows = [{ b: Buffer.from([0xde, 0xad]) }, { b: Buffer.from([0xbe, 0xef]) }, { b: Buffer.from('abc') }];
    const j = judge(set('b'), elements('set', ['3q0=', '\\xbeef', 'abc']), members(rows, { b: { kind: 'bytes', name: 'bytea' } }));
    expect(j).toMatchObject({ verdict: 'match' });
  });
});

describe('membership: planted bugs', () => {
  const rows = [r(43, '2024-05-03T00:00:00Z'), r(42, '2024-05-02T00:00:00Z'), r(17, '2024-05-01T00:00:00Z')];
  it('a missing member is named with +', () => {
    const j = judge(rule({ many: ORDER }), elements('list', ['42', '17']), members(rows, COLS));
    expect(j.diff).toEqual([{ path: 'members', cache: '2 elements', source: '3 rows', change: '+43' }]);
    expect(j.verdict).toBe('within-ttl');
  });
  it('an extra member is named with -', () => {
    const j = judge(rule({ many: ORDER }), elements('list', ['43', '42', '17', '16']), members(rows, COLS));
    expect(j.diff[0]?.change).toBe('-16');
  });
  it('a duplicated element is one extra (multiset)', () => {
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'id' } }), elements('set', ['43', '42', '42', '17']), members(rows, COLS));
    expect(j.diff[0]?.change).toBe('-42 (cached twice)');
  });
  it('at most 10 names, then how many more', () => {
    const many = Array.from({ length: 15 }, (_, i) => ({ user_id: 7, id: i + 1 }));
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'id' } }), elements('set', ['99']), members(many, { user_id: INT, id: INT }));
    expect(j.diff[0]?.change).toBe('+1, +2, +3, +4, +5, +6, +7, +8, +9, +10, … and 6 more');
  });
  it('a redacted member column hides the names', () => {
    const j = judge(rule({ type: 'set', many: { ordered: false, member: 'email' }, redact: ['email'] }), elements('set', ['a@x.io']), members([{ user_id: 7, email: 'b@x.io' }], { email: TEXT }));
    expect(j.diff[0]?.change).toBe('+***, -***');
    expect(JSON.stringify(j.diff)).not.toContain('x.io');
  });
});

describe('order', () => {
  const rows = [r(43, '2024-05-03T00:00:00Z'), r(42, '2024-05-02T00:00:00Z'), r(17, '2024-05-01T00:00:00Z')];
  it('a stale order is a difference naming the moves', () => {
    const j = judge(rule({ many: ORDER }), elements('list', ['17', '43', '42']), members(rows, COLS));
    expect(j.diff).toEqual([{ path: 'members (order)', cache: '(cached order)', source: '(source order)', change: '17 moved 0 → 2' }]);
  });
  it('one element moved to the front is one move, not every element shifted', () => {
    const five = [5, 4, 3, 2, 1].map((n) => r(n, `2024-05-0${n}T00:00:00Z`));
    expect(judge(rule({ many: ORDER }), elements('list', ['1', '5', '4', '3', '2']), members(five, COLS)).diff[0]?.change).toBe('1 moved 0 → 4');
    expect(outOfOrder([0, 0, 1, 1, 2])).toEqual([]);
    expect(outOfOrder([1, 0, 0, 2])).toEqual([0]);
    expect(outOfOrder([3, 2, 1, 0])).toHaveLength(3);
  });
  it('rows tied on every orderBy column may be cached in either order (MATCH)', () => {
    const tied = [r(43, '2024-05-03T00:00:00Z'), r(42, '2024-05-02T00:00:00Z'), r(41, '2024-05-02T00:00:00Z'), r(17, '2024-05-01T00:00:00Z')];
    expect(judge(rule({ many: ORDER }), elements('list', ['43', '41', '42', '17']), members(tied, COLS))).toMatchObject({ verdict: 'match', step: 4 });
  });
  it('a tie is on every orderBy column: rows tied on the first but not the second are ordered', () => {
    const two = { ...ORDER, orderBy: [{ column: 'created_at', descending: true }, { column: 'id', descending: false }] };
    const tied = [r(41, '2024-05-02T00:00:00Z'), r(42, '2024-05-02T00:00:00Z')];
    expect(judge(rule({ many: two }), elements('list', ['42', '41']), members(tied, COLS)).diff[0]?.path).toBe('members (order)');
  });
  it('microseconds apart is no tie', () => {
    const tied = [
      { user_id: 7, id: 1, created_at: '2024-05-02T00:00:00.000002Z' },
      { user_id: 7, id: 2, created_at: '2024-05-02T00:00:00.000001Z' },
    ];
    expect(judge(rule({ many: ORDER }), elements('list', ['2', '1']), members(tied, COLS)).diff[0]?.path).toBe('members (order)');
  });
  it('a set has no order to check', () => {
    expect(judge(rule({ type: 'set', many: { ...ORDER, ordered: false } }), elements('set', ['17', '43', '42']), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
  it('without orderBy the source has no order, so none is checked', () => {
    expect(judge(rule({ many: { ordered: true, member: 'id' } }), elements('list', ['17', '43', '42']), members(rows, COLS))).toMatchObject({ verdict: 'match' });
  });
});

describe('limit: rows tied at the boundary are interchangeable', () => {
  // limit 2; RANK() <= 2 returned 4 rows: 43, then 42/41/40 tied.
  const rows = [r(43, '2024-05-03T00:00:00Z'), r(42, '2024-05-02T00:00:00Z'), r(41, '2024-05-02T00:00:00Z'), r(40, '2024-05-02T00:00:00Z')];
  const limited = rule({ many: { ...ORDER, limit: 2 } });
  it.each([['42'], ['41'], ['40']])('any boundary-tied row may fill the last place (%s: MATCH)', (last) => {
    expect(judge(limited, elements('list', ['43', last]), members(rows, COLS))).toMatchObject({ verdict: 'match', step: 4 });
  });
  it('two boundary rows where one place is left: one extra', () => {
    expect(judge(limited, elements('list', ['43', '42', '41']), members(rows, COLS)).diff[0]?.change).toBe('-41 (one tie too many at the limit)');
  });
  it('a row before the boundary must be there', () => {
    expect(judge(limited, elements('list', ['42', '41']), members(rows, COLS)).diff[0]?.change).toBe('+43, -41 (one tie too many at the limit)');
  });
  it('the boundary row cached ahead of the fixed one is an order difference', () => {
    expect(judge(limited, elements('list', ['41', '43']), members(rows, COLS)).diff[0]).toMatchObject({ path: 'members (order)', change: '41 moved 0 → 2' });
  });
  it('a short cache names one boundary row it lacks', () => {
    expect(judge(limited, elements('list', ['43']), members(rows, COLS)).diff[0]?.change).toBe('+42');
  });
});

describe('zset scores', () => {
  const board = rule({ name: 'board', type: 'zset', many: { ordered: false, member: 'player', score: 'points' } });
  const rows = [
    { player: 'alice', points: 10 },
    { player: 'bob', points: 1.5 },
    { player: 'carol', points: Infinity },
    { player: 'dave', points: -Infinity },
  ];
  const cols = { player: TEXT, points: F8 };
  it('scores as Redis spells them (10, 1.5, inf, -inf) equal the score column', () => {
    const cache = scored([['dave', '-inf'], ['bob', '1.5'], ['alice', '10'], ['carol', 'inf']]);
    expect(judge(board, cache, members(rows, cols))).toMatchObject({ verdict: 'match' });
  });
  it('a 17-digit score (Redis < 7) equals the double it stands for', () => {
    const cache = scored([['alice', '0.10000000000000001']]);
    expect(judge(board, cache, members([{ player: 'alice', points: '0.1' }], { player: TEXT, points: DEC }))).toMatchObject({ verdict: 'match' });
  });
  it('a wrong score is named by member', () => {
    const cache = scored([['dave', '-inf'], ['bob', '1.5'], ['alice', '12'], ['carol', 'inf']]);
    expect(judge(board, cache, members(rows, cols)).diff).toEqual([{ path: 'scores[alice]', cache: 12, source: 10 }]);
  });
  it('tolerance applies to scores: within 1% matches, beyond is a difference', () => {
    const tolerant = { ...board, tolerance: { '*': { kind: 'relative', ratio: 0.01 } as const } };
    const source = members([{ player: 'alice', points: 300 }], cols);
    expect(judge(tolerant, scored([['alice', '297']]), source)).toMatchObject({ verdict: 'match' });
    expect(judge(tolerant, scored([['alice', '296.9']]), source).diff[0]?.path).toBe('scores[alice]');
  });
  it('a timestamp score column compares by instant (epoch seconds)', () => {
    const recent = { ...board, many: { ordered: false, member: 'player', score: 'seen_at' } };
    const source = members([{ player: 'alice', seen_at: new Date('2024-05-01T10:00:00Z') }], { player: TEXT, seen_at: TSTZ });
    expect(judge(recent, scored([['alice', '1714557600']]), source)).toMatchObject({ verdict: 'match' });
  });
});

describe('step 3 for collections', () => {
  const docs = rule({ type: 'string', codec: 'json', many: { ordered: true, member: 'id' } });
  it('an empty cached array and no source rows: match', () => {
    expect(judge(docs, text('[]'), { kind: 'absent' })).toMatchObject({ verdict: 'match', step: 3 });
  });
  it('a non-empty collection and no source rows: orphaned', () => {
    const long = rule({ ttlMs: 600 * S });
    expect(judge(long, elements('list', ['1'], 500 * S), { kind: 'absent' })).toMatchObject({ verdict: 'divergent', reason: 'orphan', step: 3 });
    expect(judge(rule(), elements('list', ['1']), { kind: 'absent' })).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 3 });
  });
  it('an empty cached array while the source has rows names them', () => {
    expect(judge(docs, text('[]'), members([{ id: 1 }], { id: INT })).diff[0]?.change).toBe('+1');
  });
});

describe('an element that does not decode (step 2)', () => {
  it('makes the key undecodable, naming the element as the diff would: members[i], counted from 0', () => {
    const docs = rule({ codec: 'json', many: { ordered: true, member: 'id' } });
    const j = judge(docs, elements('list', ['{"id": 1}', '{"id": 2']), members([], COLS));
    expect(j).toMatchObject({ verdict: 'error', reason: 'undecodable', step: 2 });
    expect(j.detail).toMatch(/^members\[1\] \(json\): /);
  });
});

describe('uuid members', () => {
  it('a SET of upper-case uuids (a Java writer) matches the uuid column; a missing one is still named', () => {
    const ids = ['6f1c2a3e-9b4d-4c1a-8e2f-0a1b2c3d4e5f', '0b9e1d2c-3a4f-4b5c-9d6e-7f8091a2b3c4'];
    const set = rule({ type: 'set', many: { ordered: false, member: 'member_id' } });
    const cols = { member_id: { kind: 'text' as const, name: 'uuid' } };
    const rows = ids.map((member_id) => ({ member_id }));
    expect(judge(set, elements('set', ids.map((id) => id.toUpperCase())), members(rows, cols)).verdict).toBe('match');
    const j = judge(set, elements('set', [ids[0]?.toUpperCase() as string]), members(rows, cols));
    expect(j.diff[0]?.change).toBe(`+${ids[1] as string}`);
  });
});
