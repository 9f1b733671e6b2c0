/** Adversarial cases for issue 17: verdicts a trusting reader would get wrong. */
import { describe, expect, it } from 'vitest';
import { INT, TEXT, elements, int8, judge, members, rule, scored, text } from './collection-fixtures.js';

const OTHER = { kind: 'other', name: 'unknown' } as const;

describe('tolerance applies to numbers, never to text holding digits', () => {
  const family = (tolerance: number) =>
    rule({ type: 'string', codec: 'json', many: undefined, key: ['id'], tolerance: { '*': { kind: 'absolute', amount: String(tolerance) } } });
  it('a zip code 10001 cached for 10002 differs under `tolerance: 5`', () => {
    const j = judge(family(5), text('{"id":1,"zip":"10001","likes":"10"}'), { kind: 'row', row: { id: 1, zip: '10002', likes: int8('12') }, columns: { id: INT, zip: TEXT, likes: INT } });
    expect(j.verdict).not.toBe('match');
    expect(j.diff.map((d) => d.path)).toEqual(['zip']);
  });
  it('a phone number inside a document element differs under `*: 2`', () => {
    const r = rule({ type: 'string', codec: 'json', fields: ['id', 'phone'], tolerance: { '*': { kind: 'absolute', amount: '2' } }, many: { ordered: false, member: 'id' } });
    const j = judge(r, text('[{"id":1,"phone":"5550101"}]'), members([{ id: 1, phone: '5550102' }], { id: INT, phone: TEXT }));
    expect(j.diff.map((d) => d.path)).toEqual(['members[1].phone']);
  });
  it('a text column named in `tolerance:` gets it (a number read as text, payload->>\'likes\')', () => {
    const r = rule({ type: 'string', codec: 'json', many: undefined, key: ['id'], tolerance: { likes: { kind: 'absolute', amount: '2' } } });
    const j = judge(r, text('{"id":1,"likes":"10"}'), { kind: 'row', row: { id: 1, likes: '12' }, columns: { id: INT, likes: TEXT } });
    expect(j.verdict).toBe('match');
  });
  it('an untyped source (a module loader) still gets its tolerance', () => {
    const j = judge(family(2), text('{"id":1,"likes":"10"}'), { kind: 'row', row: { id: 1, likes: 12 }, columns: { id: INT, likes: OTHER } });
    expect(j.verdict).toBe('match');
  });
});

describe('document elements must be documents', () => {
  it('a JSON array of bare ids cached for documents of (id, total) is no match', () => {
    const r = rule({ type: 'string', codec: 'json', fields: ['id', 'total'], many: { ordered: true, member: 'id' } });
    const rows = [{ user_id: 7, id: int8('1'), total: int8('5') }, { user_id: 7, id: int8('2'), total: int8('6') }];
    const j = judge(r, text('[1,2]'), members(rows, { user_id: INT, id: INT, total: INT }));
    expect(j.verdict).not.toBe('match');
    expect(j.diff).toEqual([
      { path: 'members[1]', cache: 1, source: '(a document)' },
      { path: 'members[2]', cache: 2, source: '(a document)' },
    ]);
  });
});

describe('a SET holds each member once', () => {
  const set = rule({ type: 'set', many: { ordered: false, member: 'tag' } });
  it('source rows repeating a member (a join) equal the deduplicated SET', () => {
    expect(judge(set, elements('set', ['b', 'a']), members([{ tag: 'a' }, { tag: 'b' }, { tag: 'a' }], { tag: TEXT })).verdict).toBe('match');
  });
  it('a missing member is still named when others repeat', () => {
    const j = judge(set, elements('set', ['a']), members([{ tag: 'a' }, { tag: 'b' }, { tag: 'a' }], { tag: TEXT }));
    expect(j.diff[0]?.change).toBe('+b');
  });
  it('a LIST repeating a member must repeat it in the cache', () => {
    const list = rule({ type: 'list', many: { ordered: false, member: 'tag' } });
    expect(judge(list, elements('list', ['a', 'b']), members([{ tag: 'a' }, { tag: 'b' }, { tag: 'a' }], { tag: TEXT })).diff[0]?.change).toBe('+a');
  });
});

describe('ties as MySQL/MariaDB case-insensitive collations rank them', () => {
  const byName = (limit?: number) => rule({ many: { ordered: true, member: 'id', orderBy: [{ column: 'name', descending: false }], ...(limit === undefined ? {} : { limit }) } });
  const cols = { id: INT, name: TEXT };
  it('rows tied on `Alice` / `alice` may be cached in either order', () => {
    const rows = [{ id: 1, name: 'Alice' }, { id: 2, name: 'alice' }, { id: 3, name: 'Bob' }];
    expect(judge(byName(), elements('list', ['2', '1', '3']), members(rows, cols)).verdict).toBe('match');
  });
  it('at the limit boundary either of `Éva` / `eva ` fills the last place', () => {
    const rows = [{ id: 1, name: 'Éva' }, { id: 2, name: 'eva ' }];
    expect(judge(byName(1), elements('list', ['2']), members(rows, cols)).verdict).toBe('match');
    expect(judge(byName(1), elements('list', ['1']), members(rows, cols)).verdict).toBe('match');
  });
  it('distinct names still hold their order', () => {
    const rows = [{ id: 1, name: 'Alice' }, { id: 3, name: 'Bob' }];
    expect(judge(byName(), elements('list', ['3', '1']), members(rows, cols)).diff[0]?.path).toBe('members (order)');
  });
});

describe('zset scores of a real (float4) column', () => {
  const board = rule({ type: 'zset', many: { ordered: false, member: 'player', score: 'points' } });
  const F4 = { kind: 'float4', name: 'float4' } as const;
  it('a Go float32 / Java float writer widening 0.1 to 0.10000000149011612 matches', () => {
    const j = judge(board, scored([['alice', '0.10000000149011612'], ['bob', '2.5']]), members([{ player: 'alice', points: 0.1 }, { player: 'bob', points: 2.5 }], { player: TEXT, points: F4 }));
    expect(j.verdict).toBe('match');
  });
  it('a different real still differs', () => {
    const j = judge(board, scored([['alice', '0.2']]), members([{ player: 'alice', points: 0.1 }], { player: TEXT, points: F4 }));
    expect(j.diff).toEqual([{ path: 'scores[alice]', cache: 0.2, source: 0.1 }]);
  });
});

describe("the boundary of limit is the database's RANK(), not a guess", () => {
  const byName = rule({ many: { ordered: true, member: 'id', orderBy: [{ column: 'name', descending: false }], limit: 2 } });
  const cols = { id: INT, name: TEXT };
  /** A row as the SQL loaders hand it over: its RANK() hidden on it (sources/rows.ts). */
  const ranked = (id: number, name: string, rank: number) => Object.defineProperty({ id, name }, 'shadowcheck_rank', { value: String(rank), enumerable: false });
  it('MariaDB ranks Alice, alice, alice all 1: any two of them fill the list', () => {
    const rows = [ranked(1, 'Alice', 1), ranked(2, 'alice', 1), ranked(3, 'alice', 1)];
    expect(judge(byName, elements('list', ['3', '2']), members(rows, cols)).verdict).toBe('match');
  });
  it('PostgreSQL ranks Alice 1, alice 2, alice 2: a list without Alice hides a missing member', () => {
    const rows = [ranked(1, 'Alice', 1), ranked(2, 'alice', 2), ranked(3, 'alice', 2)];
    const j = judge(byName, elements('list', ['3', '2']), members(rows, cols));
    expect(j.verdict).not.toBe('match');
    expect(j.diff[0]?.change).toBe('+1, -2 (one tie too many at the limit)');
  });
  it('the rank is neither compared nor shown', () => {
    const docs = rule({ type: 'string', codec: 'json', many: { ordered: true, orderBy: [{ column: 'name', descending: false }], limit: 2 } });
    const rows = [ranked(1, 'a', 1), ranked(2, 'b', 2)];
    expect(judge(docs, text('[{"id":1,"name":"a"},{"id":2,"name":"b"}]'), members(rows, cols)).verdict).toBe('match');
  });
});

describe('document elements pair exactly before any tolerance', () => {
  const cols = { id: INT, likes: INT };
  const posts = (ordered: boolean) =>
    rule({ type: 'string', codec: 'json', fields: ['id', 'likes'], tolerance: { '*': { kind: 'absolute', amount: '2' } }, many: { ordered, ...(ordered ? { orderBy: [{ column: 'id', descending: true }] } : {}) } });
  const source = members([{ id: 43, likes: 5 }, { id: 42, likes: 5 }, { id: 41, likes: 5 }], cols);
  const stale = text('[{"id":42,"likes":5},{"id":41,"likes":5},{"id":40,"likes":5}]');
  it('a stale list shifted by one (ids within "*: 2" of their neighbours) is no match, ordered or not', () => {
    expect(judge(posts(true), stale, source).verdict).not.toBe('match');
    const unordered = judge(posts(false), stale, source);
    expect(unordered.diff[0]?.change).toBe('+[0] {"id":43,"likes":5}, -[2] {"id":40,"likes":5}');
  });
  it('lagging counters still match within the tolerance, in order or in any order', () => {
    expect(judge(posts(true), text('[{"id":43,"likes":4},{"id":42,"likes":6},{"id":41,"likes":5}]'), source).verdict).toBe('match');
    expect(judge(posts(false), text('[{"id":42,"likes":6},{"id":41,"likes":5},{"id":43,"likes":4}]'), source).verdict).toBe('match');
  });
});
