/**
 * A key family after the rules file has been loaded, validated and compiled.
 * The core judges observations against this shape; it never sees YAML.
 */
export type RedisValueType = 'string' | 'hash' | 'list' | 'set' | 'zset';
/** Redis types that hold a collection of elements; a family of one of them has `rows: many`. */
export const COLLECTION_TYPES: readonly RedisValueType[] = ['list', 'set', 'zset'];
export type CodecName = 'json' | 'raw' | 'msgpack' | 'gzip-json' | 'brotli-json';

/** A named normalizer from the rules file (`decimal:2` becomes `{ name: 'decimal', places: 2 }`). */
export type NormalizerSpec =
  | { name: 'lowercase' }
  | { name: 'trim' }
  | { name: 'number' }
  | { name: 'decimal'; places: number }
  | { name: 'timestamp' }
  | { name: 'boolean' }
  | { name: 'sorted' }
  | { name: 'json' }
  | { name: 'date' }
  | { name: 'empty-as-null' };

/**
 * Normalizers applied inside a field's value, from a `normalize:` key that is a path (`meta.at`,
 * `items[].at`). Keyed in FamilyRule by the path's top-level field (`meta`, `items`).
 */
export interface PathNormalizer {
  /** The path as written in the rules file, e.g. `items[].at`. */
  path: string;
  /** What follows the top-level field: an object key, or `[]` for every element of an array. */
  steps: readonly string[];
  /** Applied in this order to the value at the end of the path. */
  specs: readonly NormalizerSpec[];
}

export interface KeyPattern {
  /** The pattern as written, e.g. `user:{id}`. */
  source: string;
  /** SCAN MATCH glob with the literal parts escaped, e.g. `user:*`. */
  glob: string;
  /** Placeholder names in order, e.g. `['id']`, `['tenant', 'id']`. */
  placeholders: readonly string[];
  /**
   * The captured id when the key belongs to this family, else undefined: the captured text for one
   * placeholder, the JSON array of the parts for several (see core/source-key.ts).
   */
  match(key: string): string | undefined;
  /** The key for an id (the inverse of match), e.g. 42 → `user:42`. */
  render(id: string): string;
}

/**
 * `rows: many`: the key stands for many source rows (a user's last 20 orders, a board's scores),
 * loaded per key in `orderBy` order, at most `limit` per key, and compared as one collection
 * (core/collection-diff.ts). Also the shape of each child query's rows (ChildQuery).
 */
export interface ManyRows {
  /** Per-key order of the rows, as parsed from `orderBy: "created_at DESC, id"`. Absent: no order. */
  orderBy?: readonly OrderTerm[];
  /** At most this many rows per key (the cache keeps the first `limit` in `orderBy` order). */
  limit?: number;
  /**
   * The source column each element stands for: the value of a `codec: raw` element (an id in a
   * LIST or SET, a ZSET member), or the identity of a document element (matched by it, not by
   * position). Absent for documents compared by position.
   */
  member?: string;
  /** type: zset: the source column holding each member's score. */
  score?: string;
  /** Compared in order (lists, JSON arrays) or as a set (`ordered: false`; always for set and zset). */
  ordered: boolean;
}

export interface OrderTerm {
  column: string;
  descending: boolean;
  /** NULLS FIRST / NULLS LAST when written; else the database's default. */
  nulls?: 'first' | 'last';
}

/**
 * A child query of a document built from several tables (`children:` in the rules file): its rows
 * are loaded for the same ids as the family's row (its `key` columns hold the parent's key values)
 * and nest under the parent as the array field `name`, compared by their own column types.
 */
export interface ChildQuery extends ManyRows {
  /** The field of the cached document that holds these rows, e.g. `variants`. */
  name: string;
  table?: string;
  query?: string;
  /** Child columns holding the parent's key values, one per placeholder. */
  key: readonly string[];
  /** Compared fields of each child row; absent: every field of either side except `exclude`. */
  fields?: readonly string[];
  exclude?: readonly string[];
}

/** How far a number may lag and still equal its source (counters kept with INCR): `5`, or `1%` of the source value. */
export type Tolerance = { kind: 'absolute'; amount: string } | { kind: 'relative'; ratio: number };

export interface FamilyRule {
  name: string;
  pattern: KeyPattern;
  type: RedisValueType;
  codec: CodecName;
  /** type: hash: the codec of each hash field that holds encoded data (a field holding JSON). */
  fieldCodecs?: Readonly<Record<string, CodecName>>;
  /** Name of the source in the rules file's `sources`. */
  source: string;
  query?: string;
  table?: string;
  /** Source columns matched against the captured parts, one per placeholder, in pattern order. */
  key: readonly string[];
  /** Compared fields; when absent, every field of either side except `exclude`. */
  fields?: readonly string[];
  exclude?: readonly string[];
  /** Monotonic field present in both payloads. */
  version?: string;
  /** Source column holding the row's last write time. */
  updatedAt?: string;
  ttlMs: number;
  maxStalenessMs: number;
  clockSkewMs: number;
  /** Normalizers per top-level field, applied in list order to both sides before comparing. */
  normalize: Readonly<Record<string, readonly NormalizerSpec[]>>;
  /** Normalizers inside fields' values, by top-level field; applied after that field's `normalize` list. */
  normalizePaths?: Readonly<Record<string, readonly PathNormalizer[]>>;
  redact: readonly string[];
  negativeMarker?: string;
  minConsistency?: number;
  /** `rows: many`: the key maps to many source rows, compared as a collection. Absent: one row per key. */
  many?: ManyRows;
  /** Child queries nesting rows under the family's row (a document built from several tables). */
  children?: readonly ChildQuery[];
  /** Numeric fields allowed to lag, by field (`*`: every compared field, and a zset's scores). */
  tolerance?: Readonly<Record<string, Tolerance>>;
  /**
   * The time zone of the family's source (`timezone:` in the rules file; IANA name or `+02:00`):
   * zone-less timestamps, in the cache and in zone-less columns, are wall-clock times there. UTC when absent.
   */
  timeZone?: string;
}
