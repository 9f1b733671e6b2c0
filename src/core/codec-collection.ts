/**
 * Collections to a payload: the elements of a LIST or SET, the members of a ZSET, or the JSON
 * array a string caches for a `rows: many` family, all under one field, MEMBERS_FIELD, in the
 * order Redis returned them. The source side of such a family has the same shape: the key's rows
 * under MEMBERS_FIELD (sources/rows.ts toGroups), so the classifier judges both like one row.
 */
import { Buffer } from 'node:buffer';
import type { CacheValue, ScoredMember } from './observation.js';
import type { CodecName, FamilyRule } from './rule.js';

/** The one field of a collection payload (and of a `rows: many` source row). */
export const MEMBERS_FIELD = 'members';

type ParseValue = (bytes: Buffer) => { ok: true; value: unknown } | { ok: false; error: string };
type Result = { ok: true; payload: Record<string, unknown> } | { ok: false; error: string };

function isScored(value: CacheValue): value is readonly ScoredMember[] {
  return Array.isArray(value) && value.length > 0 && !Buffer.isBuffer(value[0]);
}

/**
 * Decodes each element with the family's codec (`raw`: the element's text; `json`: a document).
 * A ZSET member becomes `{ member, score }`, its score kept as Redis spells it (`1.5`, `inf`).
 * One element that does not decode makes the whole value undecodable, naming its position.
 */
export function decodeCollection(
  rule: Pick<FamilyRule, 'type'> & { codec: CodecName },
  value: CacheValue,
  parseValue: ParseValue,
): Result {
  if (!Array.isArray(value)) return { ok: false, error: `expected a ${rule.type}, got a ${Buffer.isBuffer(value) ? 'string' : 'hash'} value` };
  const elements: unknown[] = [];
  if (rule.type === 'zset') {
    const members = value as readonly (ScoredMember | Buffer)[];
    if (members.length > 0 && !isScored(value)) return { ok: false, error: 'expected sorted-set members with scores' };
    for (let i = 0; i < members.length; i++) {
      const { member, score } = members[i] as ScoredMember;
      const parsed = parseValue(member);
      if (!parsed.ok) return { ok: false, error: `members[${i}] (${rule.codec}): ${parsed.error}` };
      elements.push({ member: parsed.value, score });
    }
  } else {
    const items = value as readonly Buffer[];
    for (let i = 0; i < items.length; i++) {
      const parsed = parseValue(items[i] as Buffer);
      if (!parsed.ok) return { ok: false, error: `members[${i}] (${rule.codec}): ${parsed.error}` };
      elements.push(parsed.value);
    }
  }
  return { ok: true, payload: { [MEMBERS_FIELD]: elements } };
}
