import { MEMBERS_FIELD } from './codec-collection.js';
import { decodeCacheValue } from './codecs.js';
import type { CacheRead } from './observation.js';
import type { FamilyRule } from './rule.js';
import type { RunWarning } from './warning.js';

/** How many decoded cache values a family's sample keeps looking at. */
export const CACHED_FIELD_SAMPLE = 20;

/**
 * The fields a cached value (with `rows: many`: each document element) is expected to hold by
 * name: those `fields` lists and the top-level fields `normalize` names. Key columns are exempt: a cached hash or JSON value need not hold its
 * own id (the lookup by key proves it). With `fields` absent, the source's other columns are not
 * expected: a cache may store a subset, and a warning per unlisted column would be noise.
 */
export function expectedCachedFields(
  rule: Pick<FamilyRule, 'fields' | 'normalize' | 'normalizePaths' | 'key'> & Partial<Pick<FamilyRule, 'many' | 'codec' | 'children'>>,
): string[] {
  // Raw elements (an id in a LIST, a ZSET member) have no fields to hold.
  if (rule.many !== undefined && rule.codec === 'raw') return [];
  const names = new Set([...(rule.fields ?? []), ...Object.keys(rule.normalize), ...Object.keys(rule.normalizePaths ?? {})]);
  for (const key of rule.key) names.delete(key);
  // A document lacking a child field holds no child rows: that is data, not a misnamed field.
  for (const child of rule.children ?? []) names.delete(child.name);
  return [...names];
}

/**
 * The documents whose fields are looked at: the payload itself, or for `rows: many` each
 * document element (a ZSET member that is a document included); undefined when none is a document.
 */
function documentsOf(rule: Pick<FamilyRule, 'many'>, payload: Record<string, unknown>): readonly Record<string, unknown>[] | undefined {
  if (rule.many === undefined) return [payload];
  const elements = payload[MEMBERS_FIELD];
  if (!Array.isArray(elements)) return undefined;
  const docs: Record<string, unknown>[] = [];
  for (const element of elements as unknown[]) {
    const value = typeof element === 'object' && element !== null && 'score' in element && 'member' in element ? (element as { member: unknown }).member : element;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) docs.push(value as Record<string, unknown>);
  }
  return docs.length === 0 ? undefined : docs;
}

/**
 * Watches the first few decoded cache values of a family and tells which expected fields none of
 * them holds: such a field compares as null on the cache side (a name the writer does not use, or
 * in another case), which against a null source column is a match that compared nothing.
 * Keeps field names only, never values.
 */
export class CachedFieldSample {
  private readonly expected: string[];
  private readonly held = new Set<string>();
  private sampled = 0;

  constructor(
    private readonly rule: FamilyRule,
    readonly limit = CACHED_FIELD_SAMPLE,
  ) {
    this.expected = expectedCachedFields(rule);
  }

  /** How many values were looked at. */
  get count(): number {
    return this.sampled;
  }

  /** True once `limit` values were looked at (or there is nothing to look for). */
  get full(): boolean {
    return this.sampled >= this.limit || this.expected.length === 0;
  }

  /** Looks at one read: a present value of the rule's type that decodes (the negative marker is no value). */
  offer(read: CacheRead): void {
    if (this.full || read.kind !== 'present' || read.redisType !== this.rule.type) return;
    const marker = this.rule.negativeMarker;
    if (marker !== undefined && Buffer.isBuffer(read.value) && read.value.toString('utf8') === marker) return;
    const decoded = decodeCacheValue(this.rule, read.value);
    if (!decoded.ok) return;
    // With rows: many the fields are each element's; an empty collection tells nothing.
    const documents = documentsOf(this.rule, decoded.payload);
    if (documents === undefined) return;
    this.sampled++;
    for (const field of this.expected) if (documents.some((doc) => Object.hasOwn(doc, field))) this.held.add(field);
  }

  /** One `rules` warning per expected field no sampled value holds; none when no value was sampled. */
  warnings(): RunWarning[] {
    if (this.sampled === 0) return [];
    const values = this.sampled === 1 ? 'the one sampled cache value does not hold it' : `none of the ${this.sampled} sampled cache values holds it`;
    return this.expected
      .filter((field) => !this.held.has(field))
      .map((field) => ({
        kind: 'rules' as const,
        family: this.rule.name,
        field,
        message: `field "${field}" is compared, but ${values}: the cache side compares as null; check the name against what the writer stores (case included)`,
      }));
  }
}
