/**
 * `--sampling random`: a family's keys drawn with RANDOMKEY, pipeline by pipeline. Each reply is
 * a key of the whole keyspace; the family keeps those its pattern claims (and, with --shard, that
 * its shard owns), once each. The cost is about sample / share calls, whatever the keyspace's
 * size: cheap for a family holding a large share, and the planner's pilot decides when it is.
 *
 * Lazy: a pipeline is sent only when the consumer asks for the next batch, so a consumer that
 * stops early (--until-confident, a stopped run) sends no more calls.
 */
import { displayKey, keyMatchText } from '../../cache/key-name.js';
import type { CacheReader } from '../../cache/types.js';
import type { FamilyRule } from '../../core/rule.js';
import type { KeyRef } from '../key-ref.js';
import type { Throttle } from '../throttle.js';
import type { FamilyDraw, SamplingReport } from './types.js';

export interface RandomDrawContext {
  cache: CacheReader;
  throttle: Throttle;
  /** With --shard: whether this shard judges the key (keys of other shards are dropped). */
  owns?: (raw: Buffer) => boolean;
  isStopped(): boolean;
}

/**
 * What RANDOMKEY's draw is known to be (redis/src/db.c dbRandomKey, dict.c dictGetFairRandomKey):
 * Redis 6 and 7 take a run of up to 15 keys from consecutive hash-table buckets at a random start
 * and return one of them at random, which evens out unequal bucket chains but is near-uniform,
 * not exact; the server's own random generator chooses, so no seed reproduces the draw; keys
 * already expired are skipped, and on a replica whose keys all have a TTL an expired key may come
 * back (it is then read as gone).
 */
export const RANDOMKEY_BIAS =
  'RANDOMKEY is near-uniform, not exact (Redis picks among up to 15 keys of neighbouring hash-table buckets from a random start, which evens out unequal buckets), ' +
  'and the server chooses, so --seed cannot reproduce this draw';

/** Lazily pulls RANDOMKEY pipelines (each up to `batch` calls) until `sample` distinct keys of the family, `maxCalls` calls, or a stop. */
export function randomDraw(rule: FamilyRule, ctx: RandomDrawContext, options: { sample: number; batch: number; maxCalls: number }): FamilyDraw {
  let examined = 0;
  let calls = 0;
  let short: SamplingReport['short'];
  const batchSize = Math.max(1, Math.floor(options.batch));

  async function* batches(): AsyncGenerator<KeyRef[]> {
    const { randomKeys } = ctx.cache;
    if (randomKeys === undefined) throw new Error(`family "${rule.name}": the cache reader cannot draw random keys (--sampling random)`);
    const seen = new Set<string>();
    let pending: KeyRef[] = [];
    while (seen.size < options.sample && calls < options.maxCalls && !ctx.isStopped()) {
      const size = Math.min(batchSize, options.maxCalls - calls);
      const keys = await randomKeys.call(ctx.cache, size, async (sent) => {
        // Counted as the calls go out: a pipeline that fails midway was still sent.
        calls += sent;
        await ctx.throttle.take(sent);
      });
      examined += keys.length;
      // An empty database answers nothing to any call: asking again cannot find a key.
      if (keys.length === 0) break;
      for (const raw of keys) {
        if (seen.size >= options.sample) break;
        const id = rule.pattern.match(keyMatchText(raw));
        if (id === undefined || (ctx.owns !== undefined && !ctx.owns(raw))) continue;
        // latin1 maps each byte to one character: a binary-safe identity for the Set.
        const identity = raw.toString('latin1');
        if (seen.has(identity)) continue;
        seen.add(identity);
        pending.push({ raw, key: displayKey(raw), id });
      }
      while (pending.length >= batchSize) {
        yield pending.slice(0, batchSize);
        pending = pending.slice(batchSize);
      }
    }
    if (pending.length > 0) yield pending;
    // Reached only when the draw ran out (not when a consumer left early): a stopped run says so itself.
    if (seen.size < options.sample && !ctx.isStopped()) {
      short = {
        asked: options.sample,
        drawn: seen.size,
        because: calls >= options.maxCalls ? `${calls} RANDOMKEY calls (the limit for this family's estimated share) found no more of its keys` : 'the keyspace answered no key',
      };
    }
  }

  return {
    rule,
    batches: batches(),
    report: (): SamplingReport => ({ method: 'random', examined, redisCalls: calls, bias: RANDOMKEY_BIAS, ...(short === undefined ? {} : { short }) }),
  };
}
