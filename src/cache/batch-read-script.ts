import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';

/**
 * Strings and hashes only: lists, sets and sorted sets are always read with pipelined commands
 * (collection-reads.ts), never with this script (`want` is 'string' or 'hash').
 *
 * Reads a batch in read-only script calls (EVAL_RO, Redis >= 7): per key the size (STRLEN / HLEN)
 * and, when the value is small, PTTL and the value (GET / HGETALL). One command for many keys
 * instead of two or three per key is what lets a client keep up with Redis; EVAL_RO itself refuses
 * any write.
 *
 * A script runs atomically: while it runs, every other client of that Redis waits. So a script
 * call never copies a large value, and stops once it has copied `budget` bytes:
 *  - a value over `inline` bytes (but under the size limit) is not read here: its size comes back
 *    and the reader fetches it with plain commands, which interleave with other clients;
 *  - a hash's bytes are not known from HLEN. MEMORY USAGE ... SAMPLES 0 gives them without copying
 *    (it walks at most `hashFields` fields; wider hashes are sized outside the script). It is at
 *    least the fields' and values' bytes, except that a small hash stores integers in fewer bytes
 *    than their digits: 24 bytes per field more is always enough;
 *  - after `budget` bytes the script returns, and the reader sends the remaining keys in another
 *    call, so other clients are served between calls.
 * One call so copies at most `budget` + `inline` bytes, and does O(keys) constant-time lookups.
 *
 * Per key it returns two elements: [value, pttl] for a value read; ['', -2] for a key that is gone;
 * [type, -3] for another type; [size, -4] for a value over the limit; [bytes, -5] for a value to
 * fetch outside the script (bytes -1: not known). The last element is how many keys were handled.
 */
export const INLINE_BYTES = 16 * 1024;
/** Bytes one script call copies at most (plus one value of at most INLINE_BYTES). */
export const SCRIPT_BUDGET_BYTES = 256 * 1024;
/** Hashes with more fields are sized outside the script (MEMORY USAGE walks every field). */
export const INLINE_HASH_FIELDS = 256;
/** What MEMORY USAGE may undercount per field of a small hash: integers stored in fewer bytes than their digits. */
export const HASH_FIELD_SLACK = 24;

export const BATCH_READ_SCRIPT = `
local want = ARGV[1]
local limit = tonumber(ARGV[2])
local inline = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local hashFields = tonumber(ARGV[5])
local slack = tonumber(ARGV[6])
local sizeOf = want == 'hash' and 'HLEN' or 'STRLEN'
local valueOf = want == 'hash' and 'HGETALL' or 'GET'
local out = {}
local spent = 0
local done = 0
for i, key in ipairs(KEYS) do
  -- The size first: it answers WRONGTYPE for another type, so TYPE is asked only then.
  local size = redis.pcall(sizeOf, key)
  if type(size) == 'table' and size['err'] then
    out[#out + 1] = redis.call('TYPE', key)['ok']
    out[#out + 1] = -3
  elseif size > limit then
    out[#out + 1] = size
    out[#out + 1] = -4
  else
    local bytes = size
    if want == 'hash' and size > 0 then
      if size > hashFields then
        bytes = -1
      else
        bytes = (redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') or 0) + slack * size
      end
    end
    if bytes < 0 or bytes > inline then
      out[#out + 1] = bytes
      out[#out + 1] = -5
    elseif done > 0 and spent + bytes > budget then
      break
    else
      local pttl = redis.call('PTTL', key)
      if pttl == -2 then
        out[#out + 1] = ''
        out[#out + 1] = -2
      else
        out[#out + 1] = redis.call(valueOf, key)
        out[#out + 1] = pttl
        spent = spent + bytes
      end
    end
  end
  done = i
end
out[#out + 1] = done
return out
`;

/**
 * Turns one script reply into CacheReads for the keys it handled (`handled` of them, from the
 * first); the keys to fetch outside the script are left undefined and listed in `deferred` with
 * the bytes the script measured (-1: unknown).
 */
export function parseBatchReply(
  reply: readonly unknown[],
  type: Extract<RedisValueType, 'string' | 'hash'>,
): { results: (CacheRead | undefined)[]; deferred: { index: number; bytes: number }[]; handled: number } {
  const handled = Number(reply[reply.length - 1]);
  const results = new Array<CacheRead | undefined>(handled);
  const deferred: { index: number; bytes: number }[] = [];
  for (let i = 0; i < handled; i++) {
    const first = reply[2 * i];
    const code = Number(reply[2 * i + 1]);
    if (code === -5) deferred.push({ index: i, bytes: Number(first) });
    else if (code === -2) results[i] = { kind: 'gone' };
    else if (code === -3) results[i] = { kind: 'present', redisType: String(first), value: Buffer.alloc(0), pttlMs: -1 };
    else if (code === -4) results[i] = { kind: 'too-large', redisType: type, size: Number(first), unit: type === 'hash' ? 'fields' : 'bytes' };
    else if (type === 'hash') results[i] = { kind: 'present', redisType: 'hash', value: fieldMap(first), pttlMs: code };
    else results[i] = { kind: 'present', redisType: 'string', value: first as Buffer, pttlMs: code };
  }
  return { results, deferred, handled };
}

export function fieldMap(flat: unknown): Record<string, Buffer> {
  const fields: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
  const list = flat as Buffer[];
  for (let i = 0; i + 1 < list.length; i += 2) fields[(list[i] as Buffer).toString('utf8')] = list[i + 1] as Buffer;
  return fields;
}
