import type { Reason, Verdict } from '../core/verdict.js';
import type { CacheEntry } from './plan.js';

/**
 * The demo's families of issue 17, one of each new kind with a planted bug each: a LIST of a
 * user's recent order ids, a SET of the users they follow, a ZSET leaderboard (MariaDB), a product
 * page built from a product and its variants (MariaDB), a like counter with a tolerance, and a
 * JSON array of a user's last orders. Values are written as the non-JS writers that typically own
 * such keys write them: redis-py (`str(id)` list elements, float scores, `json.dumps` spacing),
 * PHP's json_encode (decimals as PDO strings, floats for computed prices), Go's INCR counters.
 */
export interface CollectionRows {
  orders: OrderRow[];
  follows: FollowRow[];
  posts: number[];
  likes: LikeRow[];
  scores: ScoreRow[];
  variants: VariantRow[];
}

export interface OrderRow {
  id: number;
  userId: number;
  /** numeric(10,2) text, as PostgreSQL returns it. */
  total: string;
  status: string;
  createdAgoS: number;
  changedAgoS: number;
}

export interface FollowRow {
  userId: number;
  followeeId: number;
}

export interface LikeRow {
  postId: number;
  userId: number;
}

export interface ScoreRow {
  season: number;
  player: string;
  points: number;
  changedAgoS: number;
}

export interface VariantRow {
  productSku: string;
  sku: string;
  color: string;
  /** DECIMAL(10,2) text, as MariaDB returns it. */
  price: string;
}

type Expect = (key: string, verdict: Verdict, reason?: Reason) => void;

const PREFIX = 'demo';
const ORDER_USERS = 70;
const RECENT_ORDERS = 5;
const HISTORY_ORDERS = 3;
const STATUSES = ['placed', 'paid', 'shipped', 'delivered'] as const;
const COLORS = ['red', 'blue', 'green'] as const;

/** The product skus the page family covers (plan.ts names products SKU-0001..). */
const pageSku = (n: number) => `SKU-${String(n).padStart(4, '0')}`;

export function buildCollectionPlan(random: () => number, expect: Expect): { rows: CollectionRows; entries: CacheEntry[]; story: string[] } {
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const rows: CollectionRows = { orders: [], follows: [], posts: [], likes: [], scores: [], variants: [] };
  const entries: CacheEntry[] = [];

  // --- orders: a LIST of recent order ids (recent-orders) and a JSON array of the last orders (order-history)
  let orderId = 1000;
  for (let user = 1; user <= ORDER_USERS; user++) {
    // The planted users get few enough orders that a missing one is just that (no other row enters the limit).
    const count = user % 10 === 0 ? 0 : user === 61 || user === 62 ? 3 : user === 65 ? 4 : between(1, 8);
    // Distinct times per user (the orderBy columns never tie), hours to days old; ids grow with time.
    const created = distinct(count, () => between(3600, 30 * 86_400)).sort((a, b) => b - a);
    for (const ago of created) {
      orderId += between(1, 3);
      const changed = Math.max(60, ago - between(0, 3000));
      rows.orders.push({ id: orderId, userId: user, total: `${between(5, 400)}.${String(between(0, 99)).padStart(2, '0')}`, status: STATUSES[between(0, 3)] as string, createdAgoS: ago, changedAgoS: changed });
    }
  }
  const ordersOf = (user: number) => rows.orders.filter((o) => o.userId === user);
  const recent = (user: number) => ordersOf(user).sort((a, b) => a.createdAgoS - b.createdAgoS || b.id - a.id).slice(0, RECENT_ORDERS);
  const history = (user: number, changedAgo = (o: OrderRow) => o.changedAgoS) =>
    ordersOf(user).sort((a, b) => changedAgo(a) - changedAgo(b) || b.id - a.id).slice(0, HISTORY_ORDERS);
  const listKey = (user: number) => `${PREFIX}:user:${user}:orders`;
  const historyKey = (user: number) => `${PREFIX}:user:${user}:order-history`;
  // redis-py: RPUSH of str(id); json.dumps with its default ", " and ": " separators and float totals.
  const listOf = (orders: OrderRow[]) => orders.map((o) => String(o.id));
  const pyJson = (orders: OrderRow[]) =>
    `[${orders.map((o) => `{"id": ${o.id}, "total": ${Number(o.total)}, "status": "${o.status}"}`).join(', ')}]`;

  // Planted on the list: user 61's newest order (2 minutes old) is missing from a list written 50 s ago.
  const fresh = (user: number, changedAgoS: number) => {
    orderId += 1;
    const order: OrderRow = { id: orderId, userId: user, total: '42.00', status: 'placed', createdAgoS: changedAgoS, changedAgoS };
    rows.orders.push(order);
    return order;
  };
  const missingOn61 = fresh(61, 120);
  const missingOn62 = fresh(62, 600);
  // Planted on the JSON array: the last of user 65's three latest-changed orders was updated 100 s
  // ago, which moves it first; the cached array still has the old order.
  const oldChange = new Map(ordersOf(65).map((o) => [o.id, o.changedAgoS]));
  (history(65).at(-1) as OrderRow).changedAgoS = 100;

  for (let user = 1; user <= 66; user++) {
    const list = recent(user);
    if (list.length > 0) {
      let value = listOf(list);
      let ttlS: number | null = between(30, 290);
      if (user === 61 || user === 62) {
        const missing = user === 61 ? missingOn61 : missingOn62;
        value = listOf(list.filter((o) => o.id !== missing.id));
        ttlS = user === 61 ? 250 : null;
        expect(listKey(user), 'divergent', user === 61 ? 'stale-repopulated' : 'no-ttl');
      }
      entries.push({ key: listKey(user), kind: 'list', value, ttlS });
    }
    if (user === 65) {
      // Written 150 s ago, the order changed 100 s ago: stale for 250 s, within the 300 s budget.
      entries.push({ key: historyKey(user), kind: 'string', value: pyJson(history(user, (o) => oldChange.get(o.id) ?? o.changedAgoS)), ttlS: 150 });
      expect(historyKey(user), 'within-ttl', 'ttl-bounded');
    } else {
      // Users with no orders cache `[]`: an empty collection, which matches no rows.
      entries.push({ key: historyKey(user), kind: 'string', value: pyJson(history(user)), ttlS: between(30, 290) });
    }
  }

  // --- follows: a SET of followee ids (Go's strconv), ttl 3600 s against a 600 s budget
  const followKey = (user: number) => `${PREFIX}:user:${user}:follows`;
  for (let user = 1; user <= 63; user++) {
    // Never 1999: the id planted as an unfollowed user.
    for (const followee of distinct(between(1, 6), () => between(1, 1998))) rows.follows.push({ userId: user, followeeId: followee });
  }
  for (let user = 1; user <= 64; user++) {
    const ids = rows.follows.filter((f) => f.userId === user).map((f) => String(f.followeeId));
    if (user === 63) {
      // Unfollowed, still cached: no deletion time, so the 3600 s TTL is all that bounds it.
      entries.push({ key: followKey(user), kind: 'set', value: [...ids, '1999'], ttlS: 3000 });
      expect(followKey(user), 'divergent', 'stale-beyond-budget');
    } else if (user === 64) {
      // Follows nobody any more: an orphaned collection.
      entries.push({ key: followKey(user), kind: 'set', value: ['7', '8'], ttlS: 1800 });
      expect(followKey(user), 'divergent', 'orphan');
    } else {
      entries.push({ key: followKey(user), kind: 'set', value: ids, ttlS: between(600, 3500) });
    }
  }

  // --- likes: a counter kept with INCR (no TTL), compared with count(*) within 2
  const likeKey = (post: number) => `${PREFIX}:post:${post}:likes`;
  for (let post = 1; post <= 50; post++) {
    rows.posts.push(post);
    const n = post % 12 === 0 ? 0 : between(1, 30);
    for (const user of distinct(n, () => between(1, 2000))) rows.likes.push({ postId: post, userId: user });
  }
  const likesOf = (post: number) => rows.likes.filter((l) => l.postId === post).length;
  for (let post = 1; post <= 48; post++) {
    let count = likesOf(post);
    if (post === 46) {
      count += 5;
      expect(likeKey(post), 'divergent', 'no-ttl');
    }
    // Lags by 2, the tolerance: a match.
    if (post === 47) count = Math.max(0, count - 2);
    entries.push({ key: likeKey(post), kind: 'string', value: String(count), ttlS: null });
  }

  // --- leaderboard: a ZSET per season (MariaDB), the top 10 by points, ttl 600 s, budget 120 s
  const boardKey = (season: number) => `${PREFIX}:board:${season}`;
  for (let season = 1; season <= 12; season++) {
    const points = distinct(15, () => between(100, 5000));
    points.forEach((p, i) => rows.scores.push({ season, player: `player-${season}-${i + 1}`, points: p, changedAgoS: between(3600, 86_400) }));
  }
  const top = (season: number) => rows.scores.filter((s) => s.season === season).sort((a, b) => b.points - a.points || a.player.localeCompare(b.player)).slice(0, 10);
  const leader = top(12)[0] as ScoreRow;
  const oldPoints = leader.points;
  leader.points += 250;
  leader.changedAgoS = 60;
  for (let season = 1; season <= 12; season++) {
    // redis-py ZADD with float scores; Redis replies with its own text ("1520").
    const value = top(season).map((s) => ({ member: s.player, score: String(s === leader ? oldPoints : s.points) }));
    // Season 12: written 100 s ago, the leader scored 60 s ago: stale for 560 s against 120 s.
    entries.push({ key: boardKey(season), kind: 'zset', value, ttlS: season === 12 ? 500 : between(60, 590) });
  }
  expect(boardKey(12), 'divergent', 'stale-beyond-budget');

  // --- product pages: a product with its variants, one JSON document (PHP json_encode)
  const pageKey = (n: number) => `${PREFIX}:product-page:${pageSku(n)}`;
  for (let n = 1; n <= 41; n++) {
    const count = n % 4 === 0 ? 0 : n === 41 ? 2 : between(1, 3);
    for (let v = 0; v < count; v++) {
      rows.variants.push({ productSku: pageSku(n), sku: `${pageSku(n)}-${COLORS[v] as string}`, color: COLORS[v] as string, price: `${between(1, 500)}.${String(between(0, 9))}0` });
    }
  }

  return { rows, entries, story: collectionStory(listKey, followKey, boardKey, historyKey, likeKey, pageKey) };
}

/** Product pages need the product rows (plan.ts): written once those exist. */
export function productPageEntries(
  products: readonly { sku: string; name: string; price: string }[],
  variants: VariantRow[],
  between: (lo: number, hi: number) => number,
  expect: Expect,
): CacheEntry[] {
  const entries: CacheEntry[] = [];
  for (let n = 1; n <= 41; n++) {
    const product = products[n - 1] as { sku: string; name: string; price: string };
    // In the family's orderBy (sku), as the page's writer sorted them.
    const own = variants.filter((v) => v.productSku === product.sku).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    const cached = own.map((v) => ({ sku: v.sku, color: v.color, price: v.price }));
    if (n === 41) {
      // A variant repriced, the page not rebuilt. The product row did not change, so the page's
      // change time is unknown: only the TTL bounds it.
      const first = own[0] as VariantRow;
      first.price = (Number(first.price) + 5).toFixed(2);
      expect(`${PREFIX}:product-page:${product.sku}`, 'divergent', 'stale-beyond-budget');
    }
    // PHP: PDO's decimal strings for the product, floats for the variants' computed prices; a
    // product without variants either omits the field (n % 8 === 0) or holds [].
    const variantsJson = cached.map((v) => `{"sku":"${v.sku}","color":"${v.color}","price":${Number(v.price)}}`).join(',');
    const tail = n % 8 === 0 ? '' : `,"variants":[${variantsJson}]`;
    const value = `{"sku":"${product.sku}","name":"${product.name}","price":"${product.price}"${tail}}`;
    entries.push({ key: `${PREFIX}:product-page:${product.sku}`, kind: 'string', value, ttlS: n === 41 ? 300 : between(60, 590) });
  }
  return entries;
}

function collectionStory(...keys: ((n: number) => string)[]): string[] {
  const [list, follow, board, history, like, page] = keys as [(n: number) => string, (n: number) => string, (n: number) => string, (n: number) => string, (n: number) => string, (n: number) => string];
  return [
    `missing member       ${list(61)}   a LIST without the newest order, written after the order (stale-repopulated)`,
    `no-ttl (collection)  ${list(62)}   a LIST missing an order, written without expiry`,
    `extra member         ${follow(63)}   a SET still holding an unfollowed user; its 3600 s TTL exceeds the 600 s budget`,
    `orphan (collection)  ${follow(64)}   a SET for a user who follows nobody`,
    `wrong score          ${board(12)}   a ZSET leader's old score, stale beyond the 120 s budget`,
    `stale child field    ${page(41)}   a product page with a variant's old price`,
    `counter              ${like(46)} off by 5 (tolerance 2, no TTL: divergent); ${like(47)} lags by 2 (a match)`,
    `stale order          ${history(65)}   a JSON array of orders in their old order, within its TTL`,
  ];
}

/** `n` distinct values from `draw`. */
function distinct(n: number, draw: () => number): number[] {
  const out = new Set<number>();
  while (out.size < n) out.add(draw());
  return [...out];
}
