/**
 * A key family after the rules file has been loaded, validated and compiled.
 * The core judges observations against this shape; it never sees YAML.
 */
export type RedisValueType = 'string' | 'hash';
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
  /**
   * The time zone of the family's source (`timezone:` in the rules file; IANA name or `+02:00`):
   * zone-less timestamps, in the cache and in zone-less columns, are wall-clock times there. UTC when absent.
   */
  timeZone?: string;
}
