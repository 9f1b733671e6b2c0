/**
 * `--sampling source`: random rows of the family's table (SourceLoader.sampleIds), rendered into
 * keys with the family's pattern and kept when Redis holds them (EXISTS). Its cost follows the
 * sample, not the keyspace: the way to sample a family too rare for RANDOMKEY. What it cannot see
 * is a cache entry whose row is gone (an orphan): no row renders its key.
 *
 * A row without a cache entry is not judged (a cache holds what was asked for, not every row):
 * it is counted as `notCached`. When too few of the rows drawn are cached, more rows are drawn
 * (another seed derived from --seed, at most MAX_ROWS_FACTOR x sample rows in all), so the sample
 * still reaches `sample` keys where the cache holds enough of the table.
 */
import { displayKey } from '../../cache/key-name.js';
import type { CacheReader } from '../../cache/types.js';
import type { FamilyRule } from '../../core/rule.js';
import type { SourceLoader } from '../../sources/types.js';
import type { KeyRef } from '../key-ref.js';
import type { Throttle } from '../throttle.js';
import type { FamilyDraw, SamplingReport } from './types.js';

export interface SourceDrawContext {
  cache: CacheReader;
  loader: SourceLoader;
  throttle: Throttle;
  /** With --shard: whether this shard judges the key (keys of other shards are dropped). */
  owns?: (raw: Buffer) => boolean;
  isStopped(): boolean;
}

export const ORPHAN_BIAS = 'cannot find orphaned keys (cache entries whose row is gone)';

/** Rows asked of the source in all, at most, as a multiple of the sample. */
export const MAX_ROWS_FACTOR = 10;
/** Requests for rows, at most (the first, then top-ups when too few rows were cached). */
const MAX_ROUNDS = 3;

/** Random rows via loader.sampleIds, rendered into keys, kept only when cache.exists says so (notCached counts the rest). */
export function sourceDraw(rule: FamilyRule, ctx: SourceDrawContext, options: { sample: number; batch: number; seed: number }): FamilyDraw {
  let examined = 0;
  let existsCalls = 0;
  let notCached = 0;
  let method: string | undefined;
  let short: SamplingReport['short'];
  let tableEnded = false;
  const batchSize = Math.max(1, Math.floor(options.batch));

  async function* batches(): AsyncGenerator<KeyRef[]> {
    const { loader, cache } = ctx;
    if (loader.sampleIds === undefined) throw new Error(`family "${rule.name}": its source cannot draw random rows (--sampling source)`);
    if (cache.exists === undefined) throw new Error(`family "${rule.name}": the cache reader cannot check keys (--sampling source)`);
    const seenIds = new Set<string>();
    let kept = 0;
    let asked = 0;
    let pending: KeyRef[] = [];
    for (let round = 0; round < MAX_ROUNDS && kept < options.sample && !ctx.isStopped(); round++) {
      // The first request asks for the sample; later ones for what is missing, scaled by the
      // share of rows found cached so far.
      const cachedShare = examined === 0 ? 1 : kept / examined;
      if (round > 0 && cachedShare === 0) break;
      const want = Math.min(Math.ceil(((options.sample - kept) / cachedShare) * (round === 0 ? 1 : 1.2)), MAX_ROWS_FACTOR * options.sample - asked);
      if (want <= 0) break;
      asked += want;
      const drawn = await loader.sampleIds(rule, want, options.seed + round);
      method ??= drawn.method;
      const fresh = drawn.ids.filter((id) => !seenIds.has(id));
      fresh.forEach((id) => seenIds.add(id));
      examined += fresh.length;
      const refs = fresh.flatMap((id) => renderedRef(rule, id, ctx.owns));
      for (let from = 0; from < refs.length && kept < options.sample && !ctx.isStopped(); from += batchSize) {
        const chunk = refs.slice(from, from + batchSize);
        await ctx.throttle.take(chunk.length);
        existsCalls += chunk.length;
        const found = await cache.exists(chunk.map((ref) => ref.raw));
        chunk.forEach((ref, i) => {
          if (found[i] !== true) notCached++;
          else if (kept < options.sample) {
            kept++;
            pending.push(ref);
          }
        });
        while (pending.length >= batchSize) {
          yield pending.slice(0, batchSize);
          pending = pending.slice(batchSize);
        }
      }
      // Fewer rows than asked: the table has no more to give.
      if (drawn.ids.length < want) {
        tableEnded = true;
        break;
      }
    }
    if (pending.length > 0) yield pending;
    // Reached only when the draw ran out (not when a consumer left early): a stopped run says so itself.
    if (kept < options.sample && !ctx.isStopped()) {
      short = { asked: options.sample, drawn: kept, because: `${notCached} of ${examined} sampled rows had no cache entry${tableEnded ? ', and the table had no more rows' : ''}` };
    }
  }

  return {
    rule,
    batches: batches(),
    report: (): SamplingReport => ({
      method: 'source',
      examined,
      redisCalls: existsCalls,
      bias: method === undefined ? ORPHAN_BIAS : `${ORPHAN_BIAS}; ${method}`,
      notCached,
      ...(short === undefined ? {} : { short }),
    }),
  };
}

/**
 * The key an id renders to, when its own pattern claims it back with the same id (an id holding
 * the separator renders to a key the pattern would split differently: skipped, as --recent does)
 * and this shard owns it.
 */
function renderedRef(rule: FamilyRule, id: string, owns: ((raw: Buffer) => boolean) | undefined): KeyRef[] {
  const text = rule.pattern.render(id);
  if (rule.pattern.match(text) !== id) return [];
  const raw = Buffer.from(text);
  if (owns !== undefined && !owns(raw)) return [];
  return [{ raw, key: displayKey(raw), id }];
}
