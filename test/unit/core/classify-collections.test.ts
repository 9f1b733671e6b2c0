import { describe, expect, it } from 'vitest';
import { fieldOf } from '../../../src/core/systematic.js';
import { INT, NOW, S, TSTZ, elements, judge, members, rule } from './collection-fixtures.js';

const dated = rule({ updatedAt: 'updated_at', many: { ordered: false, member: 'id' }, type: 'set' });
const COLS = { id: INT, updated_at: TSTZ };
const changedAgo = (ms: number) => new Date(NOW - ms);

describe('change time of a rows: many collection (steps 6 to 8)', () => {
  it('only added members: the latest updatedAt of the rows dates the change (step 7)', () => {
    // Written 10 s ago (pttl 290 s of 300 s); row 2 changed 5 s ago: in the stale window.
    const rows = [{ id: 1, updated_at: changedAgo(60 * S) }, { id: 2, updated_at: changedAgo(5 * S) }];
    const j = judge(dated, elements('set', ['1'], 290 * S), members(rows, COLS));
    expect(j).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, staleAgeMs: 5 * S });
  });
  it('written after the latest row change yet different: stale-repopulated', () => {
    const rows = [{ id: 1, updated_at: changedAgo(100 * S) }, { id: 2, updated_at: changedAgo(60 * S) }];
    expect(judge(dated, elements('set', ['1'], 290 * S), members(rows, COLS))).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7 });
  });
  it('a removed member: its deletion time is unknown, so step 8 decides, not step 7', () => {
    const rows = [{ id: 1, updated_at: changedAgo(100 * S) }];
    const trace: string[] = [];
    const j = judge(dated, elements('set', ['1', '2'], 290 * S), members(rows, COLS), trace);
    expect(j).toMatchObject({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', step: 8 });
    expect(j.diff[0]?.change).toBe('-2');
    expect(trace.at(-1)).toContain('a cached member left the source');
  });
  it('an element cached twice is no removed row: the change stays dated (step 7) and the diff says why', () => {
    const list = rule({ updatedAt: 'updated_at', many: { ordered: false, member: 'id' } });
    const rows = [{ id: 1, updated_at: changedAgo(100 * S) }, { id: 2, updated_at: changedAgo(60 * S) }];
    const j = judge(list, elements('list', ['1', '2', '2'], 290 * S), members(rows, COLS));
    expect(j).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7 });
    expect(j.diff[0]?.change).toBe('-2 (cached twice)');
  });
  it('both rows of a tie at the limit cached and a higher row missing: a repopulated race, not an undated change', () => {
    // RANK(): 1 → 1, 2 and 3 tie at 2 (the limit). The list holds both tied rows and lacks row 1.
    const ranked = (id: number, rank: number, agoMs: number) =>
      Object.defineProperty({ id, updated_at: changedAgo(agoMs) }, 'shadowcheck_rank', { value: String(rank), enumerable: false });
    const top2 = rule({ updatedAt: 'updated_at', many: { ordered: true, member: 'id', orderBy: [{ column: 'updated_at', descending: true }], limit: 2 } });
    const rows = [ranked(1, 1, 50 * S), ranked(2, 2, 100 * S), ranked(3, 2, 100 * S)];
    const j = judge(top2, elements('list', ['2', '3'], 290 * S), members(rows, COLS));
    expect(j).toMatchObject({ verdict: 'divergent', reason: 'stale-repopulated', step: 7 });
    expect(j.diff[0]?.change).toBe('+1, -3 (one tie too many at the limit)');
  });
  it('a row without updatedAt leaves the change undated (step 8)', () => {
    const rows = [{ id: 1, updated_at: changedAgo(100 * S) }, { id: 2, updated_at: null }];
    expect(judge(dated, elements('set', ['1'], 290 * S), members(rows, COLS)).step).toBe(8);
  });
  it('no TTL on a differing collection: divergent/no-ttl', () => {
    expect(judge(dated, elements('set', ['1'], -1), members([{ id: 2, updated_at: changedAgo(S) }], COLS))).toMatchObject({ verdict: 'divergent', reason: 'no-ttl', step: 6 });
  });
  it('no TTL on an equal collection is still a match', () => {
    expect(judge(dated, elements('set', ['2'], -1), members([{ id: 2, updated_at: changedAgo(S) }], COLS))).toMatchObject({ verdict: 'match' });
  });
  it('explain names the change, not an index', () => {
    const trace: string[] = [];
    judge(dated, elements('set', ['1'], 290 * S), members([{ id: 2, updated_at: changedAgo(S) }], COLS), trace);
    expect(trace).toContain('3. 1 source row(s) for the key');
    expect(trace).toContain('4. 1 difference(s): members: +2, -1');
  });
  it('an orphaned collection says so in the trace', () => {
    const trace: string[] = [];
    judge(dated, elements('set', ['1']), { kind: 'absent' }, trace);
    expect(trace.some((line) => line.startsWith('3. no source rows; the cache holds a non-empty collection (orphaned)'))).toBe(true);
  });
});

describe('systematic differences across collection elements', () => {
  it('element fields fold across members, whatever the member names', () => {
    expect(fieldOf('variants[SKU-1].price')).toBe('variants[].price');
    expect(fieldOf('members[42].at')).toBe('members[].at');
    expect(fieldOf('items[3].at')).toBe('items[].at');
    expect(fieldOf('meta["a.b"]')).toBe('meta["a.b"]');
  });
});
