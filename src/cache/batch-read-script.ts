import type { CacheRead } from '../core/observation.js';
import type { RedisValueType } from '../core/rule.js';

/**
 * Reads a whole batch in one read-only script (EVAL_RO, Redis >= 7): per key the size (STRLEN /
 * HLEN) and, when it fits, PTTL and the value (GET / HGETALL). One command per batch
 * instead of two or three per key is what lets a client keep up with Redis; EVAL_RO itself refuses
 * any write, and the script's work is O(batch) over values bounded by the size limit.
 *
 * A script runs atomically, so it only carries small values: a value over the inline limit (but
 * under the size limit) comes back as its size, and the reader fetches it with ordinary pipelined
 * commands that interleave with other clients. A script call so copies at most batch × 16 KiB.
 *
 * Per key it returns two elements: [value, pttl] for a value that fits; ['', -2] for a key that
 * is gone; [type, -3] for another type; [size, -4] for a value over the limit; [size, -5] for a
 * value to fetch outside the script.
 */
export const INLINE_BYTES = 16 * 1024;
export const INLINE_HASH_FIELDS = 256;

export const BATCH_READ_SCRIPT = `
local want = ARGV[1]
local limit = tonumber(ARGV[2])
local inline = tonumber(ARGV[3])
local sizeOf = want == 'hash' and 'HLEN' or 'STRLEN'
local valueOf = want == 'hash' and 'HGETALL' or 'GET'
local out = {}
for i, key in ipairs(KEYS) do
  -- The size first: it answers WRONGTYPE for another type, so TYPE is asked only then.
  local size = redis.pcall(sizeOf, key)
  if type(size) == 'table' and size['err'] then
    out[#out + 1] = redis.call('TYPE', key)['ok']
    out[#out + 1] = -3
  elseif size > limit then
    out[#out + 1] = size
    out[#out + 1] = -4
  elseif size > inline then
    out[#out + 1] = size
    out[#out + 1] = -5
  else
    local pttl = redis.call('PTTL', key)
    if pttl == -2 then
      out[#out + 1] = ''
      out[#out + 1] = -2
    else
      out[#out + 1] = redis.call(valueOf, key)
      out[#out + 1] = pttl
    end
  end
end
return out
`;

/**
 * Turns the script's flat reply into one CacheRead per key; the indexes of keys to fetch outside
 * the script are left undefined in `results` and listed in `deferred`.
 */
export function parseBatchReply(
  reply: readonly unknown[],
  keyCount: number,
  type: RedisValueType,
): { results: (CacheRead | undefined)[]; deferred: number[] } {
  const results = new Array<CacheRead | undefined>(keyCount);
  const deferred: number[] = [];
  for (let i = 0; i < keyCount; i++) {
    const first = reply[2 * i];
    const code = Number(reply[2 * i + 1]);
    if (code === -5) deferred.push(i);
    else if (code === -2) results[i] = { kind: 'gone' };
    else if (code === -3) results[i] = { kind: 'present', redisType: String(first), value: Buffer.alloc(0), pttlMs: -1 };
    else if (code === -4) results[i] = { kind: 'too-large', redisType: type, size: Number(first) };
    else if (type === 'hash') results[i] = { kind: 'present', redisType: 'hash', value: fieldMap(first), pttlMs: code };
    else results[i] = { kind: 'present', redisType: 'string', value: first as Buffer, pttlMs: code };
  }
  return { results, deferred };
}

function fieldMap(flat: unknown): Record<string, Buffer> {
  const fields: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
  const list = flat as Buffer[];
  for (let i = 0; i + 1 < list.length; i += 2) fields[(list[i] as Buffer).toString('utf8')] = list[i + 1] as Buffer;
  return fields;
}
