import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { TableInfo } from '../../../src/init/catalog.js';
import { proposeCollection, type CollectionContext } from '../../../src/init/collection-search.js';
import { scoreAgreement } from '../../../src/init/collection-target.js';
import type { ValueSample } from '../../../src/init/payloads.js';
import type { SourceRows } from '../../../src/init/probe.js';
import type { FamilyProposal, ProposalResult } from '../../../src/init/proposal.js';
import { pgTable } from './fixtures.js';

type Row = Record<string, unknown>;

const skippedOf = (r: ProposalResult): string | undefined => ('skipped' in r ? r.skipped : undefined);
const familyOf = (r: ProposalResult): FamilyProposal | undefined => ('family' in r ? r.family : undefined);

const RATINGS = pgTable('shop', 'product_ratings', { product_id: 'bigint', customer_id: 'bigint', rating: 'numeric' }, ['product_id', 'customer_id']);
const REAL_RATINGS = pgTable('shop', 'product_ratings', { product_id: 'bigint', customer_id: 'bigint', rating: 'real' }, ['product_id', 'customer_id']);
/** A table of another schema with the same shape and no rows for the sampled ids. */
const ELSEWHERE = pgTable('archive', 'product_ratings', { product_id: 'bigint', customer_id: 'bigint', rating: 'numeric' }, ['product_id', 'customer_id']);

/** The rows of each table by id, served as the probe of a many-rows load serves them. */
function fakeSources(rowsByTable: ReadonlyMap<TableInfo, ReadonlyMap<string, Row[]>>): SourceRows {
  const probe = (target: { load: { table?: string } }, ids: readonly string[]) => {
    const table = [...rowsByTable.keys()].find((t) => target.load.table?.includes(t.schema));
    const rows = new Map<string, Row>();
    for (const id of ids) {
      const members = table === undefined ? undefined : rowsByTable.get(table)?.get(id);
      if (members !== undefined) rows.set(id, { members });
    }
    return Promise.resolve({ rows });
  };
  return { probe } as unknown as SourceRows;
}

/** Five sorted sets `product:{id}:ratings`, customer → score as Redis 7 spells it. */
function context(tables: TableInfo[], rows: ReadonlyMap<TableInfo, ReadonlyMap<string, Row[]>>, cachedScore: (rating: unknown) => string): CollectionContext {
  const samples: ValueSample[] = [];
  const source = rows.get(tables[0] as TableInfo) as ReadonlyMap<string, Row[]>;
  for (const [id, members] of source) {
    const value = members.map((r) => ({ member: Buffer.from(String(r['customer_id'])), score: cachedScore(r['rating']) }));
    samples.push({ key: `product:${id}:ratings`, id, redisType: 'zset', value, pttlMs: -1 });
  }
  const ids = samples.map((s) => s.id);
  return {
    pattern: { parts: ['product', null, 'ratings'], prefix: 'product:', suffix: ':ratings', keys: samples.map((s) => s.key), ids, shape: 'digits', byPosition: false },
    samples,
    tables,
    sources: fakeSources(rows),
    scanned: samples.length,
  };
}

/** PostgreSQL numeric values, as node-postgres returns them (text). */
const NUMERIC_ROWS = new Map<string, Row[]>(
  ['1', '2', '3', '4', '5'].map((id) => [id, [{ product_id: id, customer_id: `${id}1`, rating: '4.2' }, { product_id: id, customer_id: `${id}2`, rating: '19.99' }]]),
);
/** Redis 7 prints a score with 17 significant digits when the shortest spelling needs them. */
const REDIS7: Readonly<Record<string, string>> = { '4.2': '4.2000000000000002', '19.99': '19.989999999999998' };

describe('init: sorted set scores', () => {
  it('compares scores as doubles: Redis 7 spellings equal the numeric column they were written from', () => {
    const cached = new Map([['7', [{ member: 'alice', score: '4.2000000000000002' }, { member: 'bob', score: '19.989999999999998' }, { member: 'carol', score: 'inf' }]]]);
    const numeric = new Map([['7', [{ player: 'alice', points: '4.20' }, { player: 'bob', points: 19.99 }, { player: 'carol', points: Infinity }]]]);
    expect(scoreAgreement(cached, numeric, 'player', 'points')).toBe(1);
    // Not equal as doubles: still a disagreement.
    const off = new Map([['7', [{ member: 'alice', score: '4.2000000000000011' }]]]);
    expect(scoreAgreement(off, numeric, 'player', 'points')).toBe(0);
    // A Go float32 widened to a double matches a real column only when told it is one.
    const widened = new Map([['7', [{ member: 'alice', score: String(Math.fround(4.2)) }]]]);
    expect(scoreAgreement(widened, new Map([['7', [{ player: 'alice', points: 4.2 }]]]), 'player', 'points', true)).toBe(1);
    expect(scoreAgreement(widened, new Map([['7', [{ player: 'alice', points: 4.2 }]]]), 'player', 'points')).toBe(0);
  });

  it('proposes a zset whose float scores Redis 7 spells with 17 digits', async () => {
    const ctx = context([RATINGS], new Map([[RATINGS, NUMERIC_ROWS]]), (r) => REDIS7[String(r)] as string);
    const result = await proposeCollection(ctx, 'zset');
    expect(skippedOf(result)).toBeUndefined();
    expect(familyOf(result)?.many).toMatchObject({ member: 'customer_id', score: 'rating' });
  });

  it('proposes a zset of a real column written by a float32 writer', async () => {
    const rows = new Map<string, Row[]>([...NUMERIC_ROWS].map(([id, members]) => [id, members.map((r) => ({ ...r, rating: Number(r['rating']) }))]));
    const ctx = context([REAL_RATINGS], new Map([[REAL_RATINGS, rows]]), (r) => String(Math.fround(r as number)));
    expect(familyOf(await proposeCollection(ctx, 'zset'))?.many).toMatchObject({ member: 'customer_id', score: 'rating' });
  });

  it('skips naming the score column when the members fit and the scores do not, without tables that had no rows', async () => {
    const ctx = context([RATINGS, ELSEWHERE], new Map([[RATINGS, NUMERIC_ROWS], [ELSEWHERE, new Map()]]), () => '3');
    const result = await proposeCollection(ctx, 'zset');
    expect(familyOf(result)).toBeUndefined();
    expect(skippedOf(result)).toMatch(/scores/);
    expect(skippedOf(result)).toContain('shop.product_ratings (member customer_id; score columns: rating 0/5)');
    expect(skippedOf(result)).not.toMatch(/holds the sampled zsets' elements/);
    expect(skippedOf(result)).not.toContain('0/0');
    expect(skippedOf(result)).not.toContain('archive.');
  });
});

describe('init: list order notes', () => {
  const ORDERS = pgTable('app', 'orders', { id: 'bigint', user_id: 'bigint', created_at: 'timestamp with time zone' }, ['id']);
  const rows = new Map<string, Row[]>(
    ['1', '2', '3'].map((id, u) => [id, [0, 1, 2].map((i) => ({ id: String(u * 10 + i), user_id: id, created_at: new Date(Date.UTC(2024, 0, 1 + i)) }))]),
  );
  const lists = (keep: number): CollectionContext => {
    const samples: ValueSample[] = [...rows].map(([id, r]) => ({
      key: `user:${id}:orders`,
      id,
      redisType: 'list',
      value: [...r].reverse().slice(0, keep).map((x) => Buffer.from(String(x['id']))),
      pttlMs: -1,
    }));
    const pattern = { parts: ['user', null, 'orders'], prefix: 'user:', suffix: ':orders', keys: samples.map((s) => s.key), ids: samples.map((s) => s.id), shape: 'digits' as const, byPosition: false };
    return { pattern, samples, tables: [ORDERS], sources: fakeSources(new Map([[ORDERS, rows]])), scanned: samples.length };
  };

  it('says which order (and limit) reproduces the cached lists, in English', async () => {
    const whole = familyOf(await proposeCollection(lists(3), 'list'));
    expect(whole?.notes['orderBy']?.[0]).toBe("guess: this order reproduces 3 of 3 sampled keys' elements exactly");
    const limited = familyOf(await proposeCollection(lists(2), 'list'));
    expect(limited?.notes['orderBy']?.[0]).toBe("guess: this order and limit 2 reproduce 3 of 3 sampled keys' elements exactly");
  });
});
