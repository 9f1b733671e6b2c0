import type { Reason, Verdict } from '../core/verdict.js';
import { buildCollectionPlan, productPageEntries, type CollectionRows } from './plan-collections.js';
import { redactUrl } from '../util/redact-url.js';

/**
 * The demo dataset as data: source rows, cache entries, and the verdict each planted key must get.
 * Times are offsets from the database's now, so the plan holds whenever it is seeded.
 * Deterministic: the same plan every run, so `demo` can check its own findings.
 */
export interface DemoPlan {
  users: UserRow[];
  accounts: AccountRow[];
  products: ProductRow[];
  /** Rows of the collection families (issue 17): orders, follows, likes, scores, variants. */
  collections: CollectionRows;
  entries: CacheEntry[];
  /** Keys whose verdict is not `match`, with the verdict they must get. */
  expected: Map<string, Expectation>;
  /** One line per planted bug class, for the user. */
  story: string[];
}

export interface Expectation {
  verdict: Verdict;
  reason?: Reason;
}

export interface UserRow {
  id: number;
  name: string;
  email: string;
  plan: string;
  version: number;
  /** Seconds before now the row last changed. */
  changedAgoS: number;
}

export interface AccountRow {
  accountId: number;
  plan: string;
  monthlyApiLimit: string;
  apiCallsUsed: number;
}

export interface ProductRow {
  sku: string;
  name: string;
  price: string;
  inStock: boolean;
  changedAgoS: number;
}

export type CacheEntry =
  | { key: string; kind: 'string'; value: string; ttlS: number | null }
  | { key: string; kind: 'hash'; value: Record<string, string>; ttlS: number | null }
  | { key: string; kind: 'list'; value: string[]; ttlS: number | null }
  | { key: string; kind: 'set'; value: string[]; ttlS: number | null }
  | { key: string; kind: 'zset'; value: { member: string; score: string }[]; ttlS: number | null };

export const DEMO_PREFIX = 'demo';
const USER_COUNT = 2000;
const ACCOUNT_COUNT = 500;
const PRODUCT_COUNT = 1000;
const PLANS = ['free', 'basic', 'pro', 'enterprise'] as const;

/** Small deterministic generator (mulberry32) so the demo data is the same on every machine. */
export function numbers(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildDemoPlan(): DemoPlan {
  const random = numbers(20261122);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const plan: DemoPlan = { users: [], accounts: [], products: [], collections: { orders: [], follows: [], posts: [], likes: [], scores: [], variants: [] }, entries: [], expected: new Map(), story: [] };
  const expect = (key: string, verdict: Verdict, reason?: Reason) =>
    plan.expected.set(key, reason === undefined ? { verdict } : { verdict, reason });

  // user-profile: JSON strings, PostgreSQL, ttl 300 s, budget 300 s, versioned, updated_at known.
  const userKey = (id: number) => `${DEMO_PREFIX}:user:${id}`;
  const userJson = (u: UserRow, patch: Partial<UserRow> = {}) => {
    const v = { ...u, ...patch };
    // Mixed-case email: the rule lowercases it on both sides, so it is no difference.
    return JSON.stringify({ id: v.id, name: v.name, email: v.email.toUpperCase(), plan: v.plan, version: v.version });
  };
  for (let id = 1; id <= USER_COUNT; id++) {
    plan.users.push({
      id,
      name: `User ${id}`,
      email: `user${id}@example.com`,
      plan: PLANS[id % PLANS.length] as string,
      version: between(1, 9),
      changedAgoS: between(3600, 86_400),
    });
  }
  const user = (id: number) => plan.users[id - 1] as UserRow;
  const older = (u: UserRow) => ({ plan: u.plan === 'pro' ? 'basic' : 'pro', version: u.version - 1 });
  for (let id = 1; id <= 1800; id++) {
    plan.entries.push({ key: userKey(id), kind: 'string', value: userJson(user(id)), ttlS: between(30, 290) });
  }
  const plantUsers = (ids: number[], setup: (u: UserRow) => { changedAgoS?: number; value: string; ttlS: number | null }, verdict: Verdict, reason: Reason) => {
    for (const id of ids) {
      const u = user(id);
      u.version = Math.max(u.version, 2);
      const planted = setup(u);
      if (planted.changedAgoS !== undefined) u.changedAgoS = planted.changedAgoS;
      plan.entries.push({ key: userKey(id), kind: 'string', value: planted.value, ttlS: planted.ttlS });
      expect(userKey(id), verdict, reason);
    }
  };
  // Written 200 s ago (pttl 100 s of 300 s) but the row changed 250 s ago: repopulated with an old value.
  plantUsers([1801, 1802, 1803, 1804, 1805], (u) => ({ changedAgoS: 250, value: userJson(u, older(u)), ttlS: 100 }), 'divergent', 'stale-repopulated');
  // Written 100 s ago, row changed 30 s ago: stale for 230 s at most, within the 300 s budget.
  plantUsers(range(1806, 1815), (u) => ({ changedAgoS: 30, value: userJson(u, older(u)), ttlS: 200 }), 'within-ttl', 'ttl-bounded');
  plantUsers([1816, 1817, 1818], (u) => ({ changedAgoS: 600, value: userJson(u, older(u)), ttlS: null }), 'divergent', 'no-ttl');
  plantUsers([1819, 1820], (u) => ({ changedAgoS: 600, value: userJson(u, older(u)), ttlS: 3600 }), 'divergent', 'ttl-exceeds-declared');
  plantUsers([1821, 1822], (u) => ({ value: userJson(u, { plan: 'enterprise', version: u.version + 1 }), ttlS: 200 }), 'divergent', 'cache-ahead');
  plantUsers([1823, 1824, 1825], (u) => ({ value: userJson(u, { name: `${u.name} (old name)` }), ttlS: 200 }), 'divergent', 'payload-drift');
  for (const id of [2001, 2002, 2003, 2004]) {
    plan.entries.push({ key: userKey(id), kind: 'string', value: JSON.stringify({ id, name: 'Deleted', email: 'x@example.com', plan: 'free', version: 1 }), ttlS: null });
    expect(userKey(id), 'divergent', 'orphan');
  }
  for (const id of [2005, 2006]) {
    plan.entries.push({ key: userKey(id), kind: 'string', value: JSON.stringify({ id, name: 'Deleted', email: 'y@example.com', plan: 'free', version: 1 }), ttlS: 100 });
    expect(userKey(id), 'within-ttl', 'ttl-bounded-assumed');
  }
  plan.entries.push({ key: userKey(1826), kind: 'string', value: '{"id": 1826, "name": "Trunc', ttlS: 200 });
  expect(userKey(1826), 'error', 'undecodable');
  plan.entries.push({ key: userKey(1827), kind: 'list', value: ['not', 'a', 'profile'], ttlS: 200 });
  expect(userKey(1827), 'skipped', 'wrong-type');
  // Not a user-profile key (the placeholder does not match ':'): counted as unmatched, never loaded.
  plan.entries.push({ key: `${userKey(1)}:sessions`, kind: 'string', value: '3', ttlS: 200 });

  // account-limits: JSON strings, PostgreSQL via a query with column aliases, ttl 60 s, budget 120 s,
  // no version and no updated_at column: staleness can only be judged by the declared TTL.
  const accountKey = (id: number) => `${DEMO_PREFIX}:account-limits:${id}`;
  // Written by hand so the limit keeps all its digits (Number() would round 2^53 + 1).
  const accountJson = (a: AccountRow, used = a.apiCallsUsed) =>
    `{"accountId":${a.accountId},"plan":${JSON.stringify(a.plan)},"monthlyApiLimit":${a.monthlyApiLimit},"apiCallsUsed":${used}}`;
  for (let id = 1; id <= ACCOUNT_COUNT; id++) {
    // Limits past 2^53 on enterprise plans: compared exactly, as the bigint strings pg returns.
    const limit = id % 50 === 0 ? '9007199254740993' : String(between(1, 100) * 10_000);
    plan.accounts.push({ accountId: id, plan: PLANS[id % PLANS.length] as string, monthlyApiLimit: limit, apiCallsUsed: between(0, 9999) });
  }
  for (const a of plan.accounts) {
    if (a.accountId > 490) continue;
    const stale = a.accountId > 480;
    // At least 30 s left, so no entry expires between seeding and reading on a slow machine.
    plan.entries.push({ key: accountKey(a.accountId), kind: 'string', value: stale ? accountJson(a, a.apiCallsUsed - 7) : accountJson(a), ttlS: stale ? 30 : between(30, 59) });
    if (stale) expect(accountKey(a.accountId), 'within-ttl', 'ttl-bounded-assumed');
  }
  for (const id of [501, 502, 503]) plan.entries.push({ key: accountKey(id), kind: 'string', value: '__none__', ttlS: 45 });
  // A negative marker for an account that exists, with no expiry: the account is invisible forever.
  plan.entries.push({ key: accountKey(491), kind: 'string', value: '__none__', ttlS: null });
  expect(accountKey(491), 'divergent', 'no-ttl');

  // product: Redis hashes, MariaDB, ttl 600 s, budget 120 s: the TTL alone cannot keep the promise.
  const productKey = (sku: string) => `${DEMO_PREFIX}:product:${sku}`;
  for (let n = 1; n <= PRODUCT_COUNT; n++) {
    plan.products.push({
      sku: `SKU-${String(n).padStart(4, '0')}`,
      name: `Product ${n}`,
      // DECIMAL(10,2) comes back as '19.90'; the application cached '19.9'.
      price: `${between(1, 500)}.${String(between(0, 9))}0`,
      inStock: n % 3 !== 0,
      changedAgoS: between(3600, 86_400),
    });
  }
  const productHash = (p: ProductRow, price = p.price) => ({
    name: p.name,
    price: String(Number(price)),
    in_stock: p.inStock ? 'true' : 'false',
  });
  plan.products.forEach((p, i) => {
    const n = i + 1;
    if (n > 980) return;
    let value = productHash(p);
    let ttlS: number | null = between(60, 590);
    if (n > 960 && n <= 965) {
      // Written 500 s ago (pttl 100 s), price changed 400 s ago: stale for 500 s against a 120 s budget.
      p.changedAgoS = 400;
      value = productHash(p, '0.99');
      ttlS = 100;
      expect(productKey(p.sku), 'divergent', 'stale-beyond-budget');
    } else if (n > 965 && n <= 970) {
      // Written 560 s ago (pttl 40 s), changed 60 s ago: stale for 100 s, within the budget.
      p.changedAgoS = 60;
      value = productHash(p, '0.99');
      ttlS = 40;
      expect(productKey(p.sku), 'within-ttl', 'ttl-bounded');
    } else if (n > 970 && n <= 972) {
      p.changedAgoS = 900;
      value = productHash(p, '0.99');
      ttlS = null;
      expect(productKey(p.sku), 'divergent', 'no-ttl');
    }
    plan.entries.push({ key: productKey(p.sku), kind: 'hash', value, ttlS });
  });
  for (const sku of ['SKU-9001', 'SKU-9002']) {
    plan.entries.push({ key: productKey(sku), kind: 'hash', value: { name: 'Discontinued', price: '1', in_stock: 'false' }, ttlS: 300 });
    expect(productKey(sku), 'divergent', 'orphan');
  }

  // The collection families draw from their own sequence, so the families above keep their data.
  const more = numbers(20261206);
  const collections = buildCollectionPlan(more, expect);
  plan.collections = collections.rows;
  plan.entries.push(...collections.entries);
  plan.entries.push(...productPageEntries(plan.products, plan.collections.variants, (lo, hi) => lo + Math.floor(more() * (hi - lo + 1)), expect));

  plan.story = [
    'stale-repopulated    demo:user:1801..1805   a read refilled the cache with the old row after a write (the race)',
    'no-ttl               demo:user:1816..1818, demo:product:SKU-0971/0972, demo:account-limits:491   stale entries written without expiry',
    'ttl-exceeds-declared demo:user:1819..1820   written with a 1 h expiry where the rule declares 300 s',
    'cache-ahead          demo:user:1821..1822   cache holds a newer version than the database (lost write)',
    'payload-drift        demo:user:1823..1825   same version, different name (update without version bump)',
    'orphan               demo:user:2001..2004, demo:product:SKU-9001/9002   rows deleted, cache entries left behind',
    'stale-beyond-budget  demo:product:SKU-0961..0965   600 s TTL cannot keep a 120 s freshness budget',
    'within-ttl           demo:user:1806..1815, demo:product:SKU-0966..0970, demo:account-limits:481..490, demo:user:2005/2006   ordinary TTL staleness that will heal',
    'error, skipped       demo:user:1826 truncated JSON, demo:user:1827 a list; demo:user:1:sessions matches no family',
    ...collections.story,
  ];
  return plan;
}

/** The line that ends the story: how to look closer, against the Redis the demo seeded (its password masked). */
export function closingTip(redisUrl: string): string {
  return `(the entries expire with their TTLs: run the demo again for fresh data; try \`npx shadowcheck explain --rules rules/demo.yaml --redis ${redactUrl(redisUrl)} demo:user:1801\`)`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
