/**
 * Which cached element stands for which source row. A member is found by a coarse bucket key
 * (equal for every form of one value: `42`, `"42"`, 42n and a LosslessNumber; a timestamp's
 * second) and then confirmed by equalByType, so a bucket never decides equality on its own:
 * `"042"` shares `42`'s bucket but a text column still tells them apart.
 */
import { Buffer } from 'node:buffer';
import { isLosslessNumber } from 'lossless-json';
import type { ColumnType } from './column-type.js';
import { dayOf, equalByType, isUuidColumn } from './compare-by-type.js';
import { toDecimal, decimalKey } from './decimal.js';
import { displayValue } from './display.js';
import { instantOf } from './instant.js';
import { canonicalKey } from './normalize.js';

/** The bucket of a member value of a column of type `type` (undefined: the generic rules). */
export function memberBucket(type: ColumnType | undefined, value: unknown, zone?: string): string {
  if (value === null || value === undefined) return 'null';
  switch (type?.kind) {
    case 'integer':
    case 'decimal': {
      const d = toDecimal(typeof value === 'string' ? value.trim() : value);
      return d === undefined ? canonicalKey(value) : `n:${decimalKey(d)}`;
    }
    case 'float8':
    case 'float4': {
      // A 17-digit text and the shortest form are one double: the double is the bucket.
      const d = toDecimal(typeof value === 'string' ? value.trim() : value);
      if (d === undefined) return canonicalKey(value);
      const double = Number(decimalKey(d));
      return `f:${type.kind === 'float4' ? Math.fround(double) : double}`;
    }
    case 'timestamp':
    case 'timestamptz': {
      // Instants equal at the coarser side's precision (instantsEqual): the second is common to all.
      const instant = instantOf(value, zone);
      return instant === undefined ? canonicalKey(value) : `t:${Math.floor(instant.ms / 1000)}`;
    }
    case 'date':
      return dayOf(value) ?? canonicalKey(value);
    case 'boolean':
    case 'bool-int':
      // true / 1 / "t" / "yes": few members, all in one bucket, told apart by equalByType.
      return 'b';
    case 'bytes':
      return bytesBuckets(value)[0] ?? canonicalKey(value);
    default:
      // A uuid has no case (compare-by-type.ts): one bucket for `6F1C…` and `6f1c…`.
      return isUuidColumn(type) && typeof value === 'string' ? canonicalKey(value.toLowerCase()) : canonicalKey(value);
  }
}

/**
 * The buckets a bytes member may be in: a source value's bytes; for a cached text, each form
 * bytesEqual accepts (its UTF-8 bytes, pg's `\x` hex, base64).
 */
function bytesBuckets(value: unknown): string[] {
  if (value instanceof Uint8Array) return [`x:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`];
  if (typeof value !== 'string') return [];
  const out = [`x:${Buffer.from(value, 'utf8').toString('hex')}`];
  if (/^\\x(?:[0-9a-fA-F]{2})*$/.test(value)) out.push(`x:${value.slice(2).toLowerCase()}`);
  if (value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) out.push(`x:${Buffer.from(value, 'base64').toString('hex')}`);
  return out;
}

/** Every bucket a member may be found in (one, but for bytes held as text). */
function memberBuckets(type: ColumnType | undefined, value: unknown, zone?: string): string[] {
  if (type?.kind === 'bytes') {
    const buckets = bytesBuckets(value);
    if (buckets.length > 0) return buckets;
  }
  return [memberBucket(type, value, zone)];
}

/** Whether a cached member equals a source member (the same rule as any field of that column). */
export function sameMember(type: ColumnType | undefined, cache: unknown, source: unknown, zone?: string): boolean {
  return equalByType(type, cache, source, zone);
}

/** Longest member name a change text shows. */
const MAX_NAME_CHARS = 40;

/** A member as a change text names it: `42`, `alice`, `SKU-1`; cut when long. */
export function memberName(value: unknown): string {
  const shown = displayValue(value);
  const text = typeof shown === 'string' ? shown : isLosslessNumber(value) ? value.value : JSON.stringify(shown) ?? 'null';
  return text.length <= MAX_NAME_CHARS ? text : `${text.slice(0, MAX_NAME_CHARS - 1)}…`;
}

/** Multiset lookup: values by bucket, each taken at most once. */
export class MemberIndex<T> {
  private readonly buckets = new Map<string, { item: T; member: unknown; taken: boolean }[]>();

  constructor(
    private readonly type: ColumnType | undefined,
    private readonly zone: string | undefined,
  ) {}

  add(member: unknown, item: T): void {
    const key = memberBucket(this.type, member, this.zone);
    const list = this.buckets.get(key);
    if (list === undefined) this.buckets.set(key, [{ item, member, taken: false }]);
    else list.push({ item, member, taken: false });
  }

  /** Whether an entry (taken or not) has a member equal to `member`. */
  has(member: unknown): boolean {
    for (const bucket of memberBuckets(this.type, member, this.zone)) {
      for (const entry of this.buckets.get(bucket) ?? []) if (sameMember(this.type, member, entry.member, this.zone)) return true;
    }
    return false;
  }

  /** Takes an entry whose member equals `member`, when one is left. */
  take(member: unknown): T | undefined {
    for (const bucket of memberBuckets(this.type, member, this.zone)) {
      for (const entry of this.buckets.get(bucket) ?? []) {
        if (!entry.taken && sameMember(this.type, member, entry.member, this.zone)) {
          entry.taken = true;
          return entry.item;
        }
      }
    }
    return undefined;
  }

  /** Entries never taken, in insertion order. */
  left(): T[] {
    const out: T[] = [];
    for (const list of this.buckets.values()) for (const entry of list) if (!entry.taken) out.push(entry.item);
    return out;
  }
}
