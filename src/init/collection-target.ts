/**
 * Which table a many-rows key was built from, and how: `user:{id}:orders` holds rows of a table
 * with a `user_id` column (the key's owner, the part before the placeholder, + `_id`), named by
 * the part after it (`orders`) or, for JSON arrays, holding the elements' fields. The rows of a
 * few sampled ids then decide the member column, a sorted set's score column, a list's order and
 * limit. Pure: the rows are loaded by collection-search.ts.
 */
import { scoreNumber } from '../core/collection-diff.js';
import { valuesEqual } from '../core/compare.js';
import type { ColumnInfo, TableInfo } from './catalog.js';
import { SHAPE_CATEGORIES, type ElementShape } from './collection-shapes.js';
import { mapFieldsToColumns, nameMatchLevel, singular, words } from './names.js';

type Row = Readonly<Record<string, unknown>>;

export interface TableChoice {
  table: TableInfo;
  /** The column holding the key's id (`user_id`). */
  key: string;
  why: string;
}

/** The column named after the key's owner: `user` → `user_id`, `accounts` → `account_id`. */
export function ownerColumn(table: TableInfo, owner: string): ColumnInfo | undefined {
  const w = words(owner);
  if (w.length === 0) return undefined;
  const want = [...w.slice(0, -1), singular(w.at(-1) as string), 'id'].join('_');
  return table.columns.find((c) => words(c.name).join('_') === want);
}

/**
 * Tables that may hold a many-rows key's rows, best first: those with the owner's id column,
 * ranked by how well the part after the placeholder names them, then by how many element fields
 * (JSON arrays) are their columns. A table neither named so nor holding two of the fields is no
 * candidate: a `user_id` column alone says little.
 */
export function collectionTables(parts: readonly (string | null)[], fields: readonly string[], tables: readonly TableInfo[]): TableChoice[] {
  const hole = parts.indexOf(null);
  const owner = hole > 0 ? parts[hole - 1] : undefined;
  const after = parts[hole + 1] ?? undefined;
  if (owner === undefined || owner === null) return [];
  const scored: { choice: TableChoice; name: number; overlap: number }[] = [];
  for (const table of tables) {
    const key = ownerColumn(table, owner);
    if (key === undefined) continue;
    const name = after === undefined || after === null ? 0 : nameMatchLevel(after, table.name);
    const overlap = mapFieldsToColumns(
      fields,
      table.columns.map((c) => c.name),
    ).size;
    if (name === 0 && (overlap < 2 || overlap * 2 < fields.length)) continue;
    const why = name > 0 ? `named like "${after as string}", with the column ${key.name} named after "${owner}"` : `holding ${overlap} of the elements' fields, with the column ${key.name} named after "${owner}"`;
    scored.push({ choice: { table, key: key.name, why }, name, overlap });
  }
  return scored
    .sort((a, b) => b.name - a.name || b.overlap - a.overlap || Number(b.choice.table.inDefaultSchema) - Number(a.choice.table.inDefaultSchema))
    .slice(0, 3)
    .map((s) => s.choice);
}

/** Columns that may be a raw element (a list's, a set's, a zset's member), most likely first. */
export function memberColumns(table: TableInfo, key: string, shape: ElementShape): string[] {
  const fits = (c: ColumnInfo) => c.name !== key && SHAPE_CATEGORIES[shape].includes(c.category);
  const ordered = [...table.primaryKey, ...table.uniqueColumns, ...table.columns.filter((c) => /(^|_)id$/.test(words(c.name).join('_'))).map((c) => c.name), ...table.columns.map((c) => c.name)];
  return [...new Set(ordered)].filter((name) => {
    const c = table.columns.find((x) => x.name === name);
    return c !== undefined && fits(c);
  });
}

/** Numeric columns that may be a sorted set's score. */
export function scoreColumns(table: TableInfo, key: string, member: string): string[] {
  return table.columns.filter((c) => c.name !== key && c.name !== member && (c.category === 'integer' || c.category === 'decimal')).map((c) => c.name);
}

export interface Agreement {
  /** Sampled keys that have source rows. */
  keys: number;
  /** Keys whose cached elements are exactly the source rows' values (as multisets). */
  equal: number;
  /** Keys whose every cached element is among them (a list under a limit holds fewer). */
  contained: number;
}

/** How well `member` explains the cached elements of the sampled keys. */
export function memberAgreement(cached: ReadonlyMap<string, readonly string[]>, rows: ReadonlyMap<string, readonly Row[]>, member: string): Agreement {
  const out: Agreement = { keys: 0, equal: 0, contained: 0 };
  for (const [id, elements] of cached) {
    const source = rows.get(id);
    if (source === undefined || source.length === 0) continue;
    out.keys++;
    const left = source.map((r) => r[member]);
    let all = true;
    for (const e of elements) {
      const at = left.findIndex((v) => valuesEqual(e, v));
      if (at === -1) all = false;
      else left.splice(at, 1);
    }
    if (all) out.contained++;
    if (all && left.length === 0) out.equal++;
  }
  return out;
}

/**
 * How many keys' scores equal the `score` column of their member's row. Scores are doubles: the
 * column's value is compared as the nearest double, as the audit does (Redis 7 spells the
 * numeric 4.2 `4.2000000000000002`); a real column's (`float4`) as the nearest real, for writers
 * that widened a float32.
 */
export function scoreAgreement(cached: ReadonlyMap<string, readonly { member: string; score: string }[]>, rows: ReadonlyMap<string, readonly Row[]>, member: string, score: string, real = false): number {
  const narrow = real ? Math.fround : (x: number): number => x;
  const sameScore = (cachedScore: string, source: unknown): boolean => {
    const [c, s] = [scoreNumber(cachedScore), scoreNumber(source)];
    return c !== undefined && s !== undefined && narrow(c) === narrow(s);
  };
  let n = 0;
  for (const [id, members] of cached) {
    const source = rows.get(id);
    if (source === undefined || source.length === 0) continue;
    if (members.every((m) => source.some((r) => valuesEqual(m.member, r[member]) && sameScore(m.score, r[score])))) n++;
  }
  return n;
}

/** A limit is taken when this share of the keys with more rows than they cache hold exactly it. */
const MOST = 0.8;

export interface OrderGuess {
  /** `created_at DESC, id DESC`; undefined: no order reproduced the cached ones. */
  orderBy?: string;
  /** Other orders that reproduce most keys too, with how many: the samples barely tell them apart. */
  alike: string[];
  limit?: number;
  /** Keys whose cached order the guess reproduces, of those compared. */
  reproduced: number;
  compared: number;
}

/** Sorts values as the databases do for numbers, times and text. */
function compareValues(a: unknown, b: unknown): number {
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : undefined);
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : undefined);
  const [na, nb] = [num(a), num(b)];
  if (na !== undefined && nb !== undefined) return na - nb;
  const [ta, tb] = [time(a), time(b)];
  if (ta !== undefined && tb !== undefined) return ta - tb;
  const [sa, sb] = [String(a), String(b)];
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * The order (and limit) that reproduces most cached lists: each time column newest first, then
 * the member column either way. The limit is the longest cached list when every key with more
 * rows than it holds caches exactly that many.
 */
export function guessOrder(cached: ReadonlyMap<string, readonly string[]>, rows: ReadonlyMap<string, readonly Row[]>, table: TableInfo, member: string, identify: (row: Row) => unknown = (r) => r[member]): OrderGuess {
  const lengths = [...cached].filter(([id]) => (rows.get(id)?.length ?? 0) > 0);
  const longest = Math.max(0, ...lengths.map(([, e]) => e.length));
  const cut = lengths.filter(([id, e]) => (rows.get(id)?.length ?? 0) > e.length);
  // Most, not all: a key missing a member (the bug an audit is for) holds fewer than the limit.
  const limit = cut.length > 0 && cut.filter(([, e]) => e.length === longest).length >= MOST * cut.length ? longest : undefined;
  const times = table.columns.filter((c) => c.category === 'timestamp' || c.category === 'date').map((c) => c.name);
  const candidates = [...times.map((t) => [`${t} DESC`, `${member} DESC`]), [`${member} DESC`], [`${member}`]];
  let best: OrderGuess = { reproduced: 0, compared: lengths.length, alike: [], ...(limit === undefined ? {} : { limit }) };
  const scores: { order: string; reproduced: number }[] = [];
  for (const terms of candidates) {
    const columns = terms.map((t) => ({ column: t.split(' ')[0] as string, descending: t.endsWith(' DESC') }));
    let reproduced = 0;
    for (const [id, elements] of lengths) {
      const sorted = [...(rows.get(id) ?? [])].sort((a, b) => {
        for (const c of columns) {
          const d = compareValues(a[c.column], b[c.column]);
          if (d !== 0) return c.descending ? -d : d;
        }
        return 0;
      });
      const expected = sorted.slice(0, limit ?? sorted.length).map(identify);
      if (expected.length === elements.length && expected.every((v, i) => valuesEqual(elements[i], v))) reproduced++;
    }
    scores.push({ order: terms.join(', '), reproduced });
    if (reproduced > best.reproduced) best = { ...best, orderBy: terms.join(', '), reproduced };
  }
  best.alike = scores.filter((o) => o.order !== best.orderBy && o.reproduced > 0 && o.reproduced >= MOST * best.reproduced).map((o) => `${o.order} (${o.reproduced} of ${lengths.length})`);
  return best;
}

/**
 * When no table is named like the key: every column that can hold many rows per id (part of a
 * composite primary key, or in no primary key) in a table with room for a member and a value.
 * Only the rows' values can then confirm a choice, and the proposal says so.
 */
export function valueMatchedTables(tables: readonly TableInfo[], idCategories: readonly string[]): TableChoice[] {
  const out: TableChoice[] = [];
  const preferred = [...tables].sort((a, b) => Number(b.inDefaultSchema) - Number(a.inDefaultSchema));
  for (const table of preferred) {
    if (table.columns.length < 2) continue;
    const single = table.primaryKey.length === 1 ? table.primaryKey[0] : undefined;
    const keys = table.columns.filter((c) => c.name !== single && !table.uniqueColumns.includes(c.name) && idCategories.includes(c.category)).slice(0, 2);
    for (const key of keys) out.push({ table, key: key.name, why: `whose rows for the sampled ids hold the cached elements (matched by values only: no table is named like the key)` });
  }
  return out;
}
