import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { exactNumber } from '../../../src/core/decimal.js';
import type { ProbeOutcome } from '../../../src/init/candidates.js';
import type { TableInfo } from '../../../src/init/catalog.js';
import { inferPatterns } from '../../../src/init/patterns.js';
import { analyzePayloads, type ValueSample } from '../../../src/init/payloads.js';
import { proposeFamily, type FamilyProposal } from '../../../src/init/proposal.js';
import { ACCOUNT_LIMITS, PRODUCTS, USERS, pgTable } from './fixtures.js';

function outcome(table: TableInfo, column: string, found = 50): ProbeOutcome {
  return { candidate: { table, column, why: 'the primary key', nameScore: 6, fieldOverlap: 3 }, probed: 50, found, agreement: 100 };
}

function propose(keys: string[], samples: ValueSample[], table: TableInfo, column: string, rows: Map<string, Record<string, unknown>>): FamilyProposal {
  const [pattern] = inferPatterns(keys).patterns;
  if (pattern === undefined) throw new Error('no pattern');
  const result = proposeFamily({ pattern, analysis: analyzePayloads(samples), chosen: outcome(table, column), alike: [], rows, scanned: 1000 });
  if ('skipped' in result) throw new Error(result.skipped);
  return result.family;
}

const ids = Array.from({ length: 40 }, (_, i) => i + 1);

describe('proposeFamily', () => {
  it('JSON users: table form, compared fields, version, updatedAt, TTL, lowercase and redact guessed from the data', () => {
    const samples = ids.map((id): ValueSample => ({
      key: `demo:user:${id}`,
      id: String(id),
      redisType: 'string',
      value: Buffer.from(JSON.stringify({ id, name: `User ${id}`, email: `USER${id}@EXAMPLE.COM`, plan: 'pro', version: 3 })),
      pttlMs: 7000 * id,
    }));
    const rows = new Map(ids.map((id) => [String(id), { id: exactNumber(String(id)), name: `User ${id}`, email: `user${id}@example.com`, plan: 'pro', version: 3, updated_at: new Date() }]));
    const f = propose(samples.map((s) => s.key), samples, USERS, 'id', rows);
    expect({ ...f, notes: undefined }).toEqual({
      name: 'demo-user',
      pattern: 'demo:user:{id}',
      type: 'string',
      codec: 'json',
      source: 'main',
      load: { table: 'app.users' },
      key: 'id',
      fields: ['name', 'email', 'plan'],
      version: 'version',
      updatedAt: 'updated_at',
      ttl: '300s',
      normalize: { email: 'lowercase' },
      redact: ['email'],
      keyCount: 40,
      notes: undefined,
    });
    for (const lines of Object.values(f.notes)) for (const line of lines ?? []) expect(line).toMatch(/^(guess|review): /);
    expect(f.notes.ttl?.[1]).toMatch(/^review: maxStaleness/);
  });

  it('camelCase JSON over snake_case columns: a query with aliases, keyed by the aliased key, and a negative marker', () => {
    const samples: ValueSample[] = ids.map((id) => ({
      key: `demo:account-limits:${id}`,
      id: String(id),
      redisType: 'string',
      value: Buffer.from(id > 37 ? '__none__' : `{"accountId":${id},"plan":"pro","monthlyApiLimit":9007199254740993,"apiCallsUsed":5}`),
      pttlMs: 1000 * id,
    }));
    const rows = new Map(
      ids.filter((id) => id <= 38).map((id) => [String(id), { account_id: id, plan: 'pro', monthly_api_limit: exactNumber('9007199254740993'), api_calls_used: 5 }]),
    );
    const f = propose(samples.map((s) => s.key), samples, ACCOUNT_LIMITS, 'account_id', rows);
    expect(f.pattern).toBe('demo:account-limits:{accountId}');
    expect(f.key).toBe('accountId');
    expect(f.load).toEqual({
      query: 'SELECT account_id AS "accountId", plan, monthly_api_limit AS "monthlyApiLimit", api_calls_used AS "apiCallsUsed"\nFROM app.account_limits\nWHERE account_id = ANY($1)',
    });
    expect(f.fields).toEqual(['plan', 'monthlyApiLimit', 'apiCallsUsed']);
    expect(f.negativeMarker).toBe('__none__');
    expect(f.notes.negativeMarker).toEqual(['guess: 3 sampled keys hold this instead of json; 2 of their rows do not exist']);
    expect(f.updatedAt).toBeUndefined();
    expect(f.ttl).toBe('60s');
  });

  it('hashes over a MySQL table: type hash, no codec, no normalizer for DECIMAL and TINYINT(1)', () => {
    const skus = ids.map((n) => `SKU-${String(n).padStart(4, '0')}`);
    const samples: ValueSample[] = skus.map((sku, i) => ({
      key: `demo:product:${sku}`,
      id: sku,
      redisType: 'hash',
      value: { name: Buffer.from(`P${i}`), price: Buffer.from('19.9'), in_stock: Buffer.from('true') },
      pttlMs: 14_000 * (i + 1),
    }));
    const rows = new Map(skus.map((sku, i) => [sku, { sku, name: `P${i}`, price: exactNumber('19.90'), in_stock: true, updated_at: new Date() }]));
    const f = propose(samples.map((s) => s.key), samples, PRODUCTS, 'sku', rows);
    expect(f).toMatchObject({ pattern: 'demo:product:{sku}', type: 'hash', load: { table: 'shop.products' }, key: 'sku', fields: ['name', 'price', 'in_stock'], updatedAt: 'updated_at', ttl: '600s', normalize: {} });
    expect(f.codec).toBeUndefined();
    expect(f.version).toBeUndefined();
  });

  it('a change time the cache holds in camelCase is compared under its alias and named by its column', () => {
    const table = pgTable('app', 'carts', { cart_id: 'bigint', total_cents: 'integer', updated_at: 'timestamp with time zone' }, ['cart_id']);
    const at = new Date('2024-01-01T00:00:00Z');
    const samples: ValueSample[] = ids.map((id) => ({ key: `cart:${id}`, id: String(id), redisType: 'string', value: Buffer.from(JSON.stringify({ cartId: id, totalCents: 5, updatedAt: at.toISOString() })), pttlMs: 1000 }));
    const rows = new Map(ids.map((id) => [String(id), { cart_id: id, total_cents: 5, updated_at: at }]));
    const f = propose(samples.map((s) => s.key), samples, table, 'cart_id', rows);
    expect(f.load).toEqual({ query: 'SELECT cart_id AS "cartId", total_cents AS "totalCents", updated_at AS "updatedAt", updated_at\nFROM app.carts\nWHERE cart_id = ANY($1)' });
    expect(f.fields).toEqual(['totalCents', 'updatedAt']);
    expect(f.updatedAt).toBe('updated_at');
  });

  it('plain string values: the raw codec with the column they equal', () => {
    const samples: ValueSample[] = ids.map((id) => ({ key: `user:${id}:name`, id: String(id), redisType: 'string', value: Buffer.from(`User ${id}`), pttlMs: 1000 }));
    const rows = new Map(ids.map((id) => [String(id), { id, name: `User ${id}`, email: 'x' }]));
    const f = propose(samples.map((s) => s.key), samples, USERS, 'id', rows);
    expect(f).toMatchObject({ pattern: 'user:{id}:name', codec: 'raw', fields: ['name'] });
  });

  it('marks a key column that is neither the primary key nor unique for review, naming a composite primary key', () => {
    const tenantUsers = pgTable('app', 'tenant_users', { tenant_id: 'text', id: 'integer', name: 'text' }, ['tenant_id', 'id']);
    const samples: ValueSample[] = ids.map((id) => ({ key: `tenant_user:${id}`, id: String(id), redisType: 'string', value: Buffer.from(JSON.stringify({ name: `U${id}` })), pttlMs: 1000 }));
    const rows = new Map(ids.map((id) => [String(id), { tenant_id: 'acme', id, name: `U${id}` }]));
    const f = propose(samples.map((s) => s.key), samples, tenantUsers, 'id', rows);
    expect(f.notes.key?.[1]).toBe(
      'review: id is neither the primary key nor unique; an id with several rows is judged error/source-error; ' +
        'the primary key is (tenant_id, id): a key pattern needs a placeholder per column, like t:{a}:u:{b} with key: [a, b]',
    );
    expect(propose(samples.map((s) => s.key), samples, USERS, 'id', rows).notes.key).toHaveLength(1);
  });

  it('skips a pattern whose cached fields name no column', () => {
    const samples: ValueSample[] = ids.map((id) => ({ key: `x:${id}`, id: String(id), redisType: 'string', value: Buffer.from('{"foo":1}'), pttlMs: 1000 }));
    const [pattern] = inferPatterns(samples.map((s) => s.key)).patterns;
    const result = proposeFamily({ pattern: pattern!, analysis: analyzePayloads(samples), chosen: outcome(USERS, 'id'), alike: [], rows: new Map(), scanned: 40 });
    expect(result).toEqual({ skipped: 'no cached field is a column of app.users (other than the key)' });
  });
});
