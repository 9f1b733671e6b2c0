import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { parseRules } from '../../../src/config/load.js';
import { counterValue, elementFields, elementShape, jsonArrayOfObjects, scoreShape } from '../../../src/init/collection-shapes.js';
import { collectionTypeOf, jsonArrays } from '../../../src/init/collection-search.js';
import { collectionTables, guessOrder, memberAgreement, memberColumns, ownerColumn, scoreAgreement, scoreColumns, valueMatchedTables } from '../../../src/init/collection-target.js';
import { counterValues, proposeTolerance } from '../../../src/init/counter-search.js';
import { counterQuery } from '../../../src/init/load-spec.js';
import type { ValueSample } from '../../../src/init/payloads.js';
import type { FamilyProposal } from '../../../src/init/proposal.js';
import { renderProposal } from '../../../src/init/render.js';
import { mysqlTable, pgTable, USERS } from './fixtures.js';

const ORDERS = pgTable('app', 'orders', { id: 'bigint', user_id: 'bigint', total: 'numeric(10,2)', status: 'text', created_at: 'timestamp with time zone' }, ['id']);
const FOLLOWS = pgTable('app', 'follows', { user_id: 'bigint', followee_id: 'bigint' }, ['user_id', 'followee_id']);
const POSTS = pgTable('app', 'posts', { id: 'bigint' }, ['id']);
const SCORES = mysqlTable('shop', 'scores', { season: 'int', player: 'varchar(64)', points: 'int', updated_at: 'datetime(3)' }, ['season', 'player']);
const USER_ORDERS = ['demo', 'user', null, 'orders'];

describe('the shapes of a sampled value', () => {
  it('tells integer ids, uuids and other text apart, and has no shape without elements', () => {
    expect(elementShape(['1', '42', '-7', '9007199254740993'])).toBe('integer');
    expect(elementShape(['0b0e0c36-6f4a-4b8e-9a55-5f0f3b1c2d3e', 'AB0E0C36-6F4A-4B8E-9A55-5F0F3B1C2D3E'])).toBe('uuid');
    expect(elementShape(['42', 'alice'])).toBe('text');
    expect(elementShape(['1.5'])).toBe('text');
    expect(elementShape([])).toBeUndefined();
  });

  it('reads sorted set scores as integers only when every one is whole', () => {
    const m = (score: string) => ({ member: Buffer.from('a'), score });
    expect(scoreShape([m('10'), m('-3')])).toBe('integer');
    expect(scoreShape([m('10'), m('1.5')])).toBe('decimal');
    expect(scoreShape([m('inf')])).toBe('decimal');
    expect(scoreShape([])).toBeUndefined();
  });

  it('takes a string for a JSON array of objects only when every element is an object', () => {
    expect(jsonArrayOfObjects(Buffer.from('[{"id": 1, "total": 19.9}, {"id": 2}]'))).toEqual([{ id: 1, total: 19.9 }, { id: 2 }]);
    expect(jsonArrayOfObjects(Buffer.from(' []'))).toEqual([]);
    expect(jsonArrayOfObjects(Buffer.from('[1, 2]'))).toBeUndefined();
    expect(jsonArrayOfObjects(Buffer.from('[{"id": 1}, null]'))).toBeUndefined();
    expect(jsonArrayOfObjects(Buffer.from('{"id": 1}'))).toBeUndefined();
    expect(jsonArrayOfObjects(Buffer.from('[{"id": 1'))).toBeUndefined();
  });

  it('reads a counter as INCR leaves it, and nothing else', () => {
    expect(counterValue(Buffer.from('42'))).toBe(42n);
    expect(counterValue(Buffer.from('-3'))).toBe(-3n);
    expect(counterValue(Buffer.from('9007199254740993'))).toBe(9007199254740993n);
    expect(counterValue(Buffer.from('4.5'))).toBeUndefined();
    expect(counterValue(Buffer.from('42 '))).toBeUndefined();
  });

  it('counts the fields of JSON array elements, most frequent first', () => {
    expect(elementFields([[{ id: 1, note: 'x' }, { id: 2 }], [{ id: 3, total: 1 }]])).toEqual([
      { name: 'id', count: 3 },
      { name: 'note', count: 1 },
      { name: 'total', count: 1 },
    ]);
  });

  it('picks the collection type most samples have, and JSON arrays only when most strings hold one', () => {
    let n = 0;
    const s = (redisType: string, value?: string): ValueSample => ({ key: `k:${++n}`, id: String(n), redisType, ...(value === undefined ? {} : { value: Buffer.from(value) }) });
    expect(collectionTypeOf([s('zset'), s('zset'), s('string')])).toBe('zset');
    expect(collectionTypeOf([s('string'), s('string'), s('list')])).toBeUndefined();
    expect(jsonArrays([s('string', '[]'), s('string', '[{"id": 1}]'), s('string', '{"id": 1}')])?.size).toBe(2);
    expect(jsonArrays([s('string', '[]'), s('string', '{"id": 1}'), s('string', '{"id": 2}')])).toBeUndefined();
    const counters = [s('string', '3'), s('string', '0')];
    expect(counterValues({ samples: counters })).toEqual(new Map([[counters[0]?.id, 3n], [counters[1]?.id, 0n]]));
    expect(counterValues({ samples: [s('string', '3'), s('string', 'x')] })).toBeUndefined();
  });
});

describe('the table of a many-rows key', () => {
  it('names the key column after the part before the id (user → user_id, categories → category_id)', () => {
    expect(ownerColumn(ORDERS, 'user')?.name).toBe('user_id');
    expect(ownerColumn(pgTable('app', 'items', { category_id: 'integer' }, []), 'categories')?.name).toBe('category_id');
    expect(ownerColumn(USERS, 'user')).toBeUndefined();
  });

  it('user:{id}:orders → orders keyed by user_id; a table with user_id but another name is no candidate for a list', () => {
    const choices = collectionTables(USER_ORDERS, [], [USERS, FOLLOWS, ORDERS]);
    expect(choices.map((c) => [c.table.name, c.key])).toEqual([['orders', 'user_id']]);
  });

  it('a JSON array under another name finds the table that holds its fields and the owner column', () => {
    const choices = collectionTables(['demo', 'user', null, 'order-history'], ['id', 'total', 'status', 'note'], [USERS, FOLLOWS, ORDERS]);
    expect(choices.map((c) => c.table.name)).toEqual(['orders']);
    expect(collectionTables(['demo', 'user', null, 'order-history'], ['id', 'note'], [ORDERS])).toEqual([]);
  });

  it('proposes no table for a key with nothing before its id', () => {
    expect(collectionTables([null, 'orders'], [], [ORDERS])).toEqual([]);
  });

  it('offers the member column by the elements shape: the primary key, else the other primary key column', () => {
    expect(memberColumns(ORDERS, 'user_id', 'integer')[0]).toBe('id');
    expect(memberColumns(FOLLOWS, 'user_id', 'integer')).toEqual(['followee_id']);
    expect(memberColumns(FOLLOWS, 'user_id', 'uuid')).toEqual([]);
    expect(memberColumns(SCORES, 'season', 'text')).toEqual(['player']);
    expect(scoreColumns(SCORES, 'season', 'player')).toEqual(['points']);
  });

  it('without a named table, offers only columns that can hold many rows per id', () => {
    const choices = valueMatchedTables([SCORES, POSTS], ['integer']);
    expect(choices.map((c) => `${c.table.name}.${c.key}`)).toEqual(['scores.season', 'scores.points']);
  });
});

describe('what the rows of the sampled ids say', () => {
  const rows = new Map([
    ['1', [{ id: 11n, created_at: new Date(3000) }, { id: 12n, created_at: new Date(2000) }, { id: 13n, created_at: new Date(1000) }]],
    ['2', [{ id: 21n, created_at: new Date(1000) }, { id: 22n, created_at: new Date(5000) }]],
    ['3', [{ id: 31n, created_at: new Date(1000) }]],
  ]);

  it('compares elements by value ("42" is the bigint 42), as multisets', () => {
    const agreement = memberAgreement(
      new Map([
        ['1', ['11', '12']],
        ['2', ['22', '21']],
        ['3', ['31', '99']],
        ['4', ['1']],
      ]),
      rows,
      'id',
    );
    expect(agreement).toEqual({ keys: 3, contained: 2, equal: 1 });
    expect(memberAgreement(new Map([['2', ['21', '21']]]), rows, 'id').contained).toBe(0);
  });

  it('finds the order and the limit that reproduce the cached lists, newest first', () => {
    const cached = new Map([
      ['1', ['11', '12']],
      ['2', ['22', '21']],
      ['3', ['31']],
    ]);
    const guess = guessOrder(cached, rows, ORDERS, 'id');
    expect(guess).toMatchObject({ orderBy: 'created_at DESC, id DESC', limit: 2, reproduced: 3, compared: 3 });
  });

  it('keeps the limit when a few keys miss a member (the bug an audit looks for), and names equally good orders', () => {
    const many = new Map<string, { id: bigint; created_at: Date }[]>();
    const cached = new Map<string, string[]>();
    for (let u = 1; u <= 10; u++) {
      many.set(String(u), [1, 2, 3, 4].map((n) => ({ id: BigInt(u * 10 + n), created_at: new Date(n * 1000) })));
      const newest = [4, 3, 2].map((n) => String(u * 10 + n));
      cached.set(String(u), u === 10 ? newest.slice(0, 2) : newest);
    }
    const guess = guessOrder(cached, many, ORDERS, 'id');
    expect(guess.limit).toBe(3);
    expect(guess.reproduced).toBe(9);
    // Ids grow with time here, so "id DESC" orders them the same: the samples cannot tell.
    expect(guess.alike).toEqual(['id DESC (9 of 10)']);
  });

  it('reproduces nothing when the cached order is no order of the rows', () => {
    const guess = guessOrder(new Map([['1', ['12', '11', '13']]]), rows, ORDERS, 'id');
    expect(guess.reproduced).toBe(0);
    expect(guess.orderBy).toBeUndefined();
  });

  it('matches a sorted set scores with the score column, Redis text against the column value', () => {
    const board = new Map([['7', [{ player: 'alice', points: 1520 }, { player: 'bob', points: 90 }]]]);
    expect(scoreAgreement(new Map([['7', [{ member: 'alice', score: '1520' }, { member: 'bob', score: '90' }]]]), board, 'player', 'points')).toBe(1);
    expect(scoreAgreement(new Map([['7', [{ member: 'alice', score: '1500' }]]]), board, 'player', 'points')).toBe(0);
  });
});

describe('counters', () => {
  it('proposes the lag that covers 90% of the sampled counters, so one far-off counter stays divergent', () => {
    expect(proposeTolerance([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 2n, 5n])).toBe(0);
    expect(proposeTolerance([0n, 1n, -2n, 1n, 0n, 2n, 1n, 0n, 2n, 40n])).toBe(2);
    expect(proposeTolerance([])).toBe(0);
  });

  it('counts child rows per parent with a LEFT JOIN, batched as the kind batches', () => {
    const likes = pgTable('app', 'likes', { post_id: 'bigint', user_id: 'bigint' }, ['post_id', 'user_id']);
    expect(counterQuery(POSTS, 'id', likes, 'post_id', 'likes')).toBe(
      'SELECT p.id, count(c.post_id) AS likes\nFROM app.posts p\nLEFT JOIN app.likes c ON c.post_id = p.id\nWHERE p.id = ANY($1)\nGROUP BY p.id',
    );
    const parent = mysqlTable('shop', 'posts', { id: 'int' }, ['id']);
    expect(counterQuery(parent, 'id', { schema: 'shop', name: 'likes' }, 'post_id', 'likes')).toContain('WHERE p.id IN (?)');
  });
});

describe('rendering a many-rows proposal', () => {
  const base: FamilyProposal = {
    name: 'demo-user-orders',
    pattern: 'demo:user:{user_id}:orders',
    type: 'list',
    source: 'main',
    load: { table: 'app.orders' },
    key: 'user_id',
    fields: [],
    ttl: '300s',
    normalize: {},
    redact: [],
    notes: { rows: ['review: one key holds many rows'], orderBy: ['guess: reproduces 58 of 60'], tolerance: ['review: counter guess: x'] },
    keyCount: 60,
    many: { orderBy: 'created_at DESC, id DESC', limit: 5, member: 'id' },
  };
  const doc = { schemaPath: './rules.schema.json', header: [], sources: [{ name: 'main', kind: 'postgres' as const, url: 'postgres://db/app', notes: [] }], footer: [] };

  it('writes type, rows, orderBy, limit and member (no codec, no empty fields), notes included, and validates', () => {
    const zset: FamilyProposal = { ...base, name: 'board', pattern: 'board:{season}', type: 'zset', key: 'season', many: { member: 'player', score: 'points' } };
    const counter: FamilyProposal = { ...base, name: 'likes', pattern: 'post:{id}:likes', type: 'string', codec: 'raw', key: 'id', fields: ['likes'], tolerance: 2, load: { query: 'SELECT post_id AS id, count(*) AS likes FROM app.likes WHERE post_id = ANY($1) GROUP BY post_id' } };
    delete counter.many;
    const array: FamilyProposal = { ...base, name: 'history', pattern: 'h:{user_id}', type: 'string', codec: 'json', fields: ['id', 'total'], many: { member: 'id', ordered: false } };
    const text = renderProposal({ ...doc, families: [base, zset, counter, array] });
    expect(text).toContain('type: list\n');
    expect(text).toMatch(/# review: one key holds many rows\n\s+rows: many\n\s+# guess: reproduces 58 of 60\n\s+orderBy: created_at DESC, id DESC\n\s+limit: 5\n\s+member: id\n/);
    expect(text).toMatch(/# review: counter guess: x\n\s+tolerance: 2\n/);
    expect(text).toContain('ordered: false');
    const config = parseRules(text, 'proposal.yaml', {});
    const [list, board, likes, history] = config.families;
    expect(list).toMatchObject({ type: 'list', codec: 'raw', many: { ordered: true, limit: 5, member: 'id' } });
    expect(list?.fields).toBeUndefined();
    expect(board).toMatchObject({ type: 'zset', many: { ordered: false, member: 'player', score: 'points' } });
    expect(likes).toMatchObject({ codec: 'raw', tolerance: { '*': { kind: 'absolute', amount: '2' } } });
    expect(history).toMatchObject({ type: 'string', codec: 'json', many: { ordered: false, member: 'id' } });
  });
});
