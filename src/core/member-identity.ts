/**
 * Which cached element stands for which source row. A member is found by a coarse bucket key
 * (equal for every form of one value: `42`, `"42"`, 42n and a LosslessNumber; a timestamp's
 * second) and then confirmed by equalByType, so a bucket never decides equality on its own:
 * `"042"` shares `42`'s bucket but a text column still tells them apart.
 */
import { isLosslessNumber } from 'lossless-json';
import type { ColumnType } from './column-type.js';
import { dayOf, equalByType } from './compare-by-type.js';
import { toDecimal, decimalKey } from './decimal.js';
import { displayValue } from './display.js';
import { instantOf } from './instant.js';
import { canonicalKey } from './normalize.js';

/** The bucket of a member value of a column of type `type` (undefined: the generic rules). */
export function memberBucket(type: ColumnType | undefined, value: unknown, zone?: string): string {
  if (value === null || value === undefined) return 'null';
  switch (type?.kind) {
    case 'integer':
    case 'decimal':
    case 'float8':
    case 'float4':
    case 'bool-int': {
      const d = toDecimal(typeof value === 'string' ? value.trim() : value);
      return d === undefined ? `?${String(canonicalKey(value))}` : `n:${decimalKey(d)}`;
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
      return 'b';
    default:
      return canonicalKey(value);
  }
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

  /** Takes an entry whose member equals `member`, when one is left. */
  take(member: unknown): T | undefined {
    const list = this.buckets.get(memberBucket(this.type, member, this.zone));
    if (list === undefined) return undefined;
    for (const entry of list) {
      if (!entry.taken && sameMember(this.type, member, entry.member, this.zone)) {
        entry.taken = true;
        return entry.item;
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
