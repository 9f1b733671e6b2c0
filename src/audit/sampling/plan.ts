import type { CacheReader } from '../../cache/types.js';
import { displayKey, keyMatchText } from '../../cache/key-name.js';
import type { FamilyRule } from '../../core/rule.js';
import type { Throttle } from '../throttle.js';

/** RANDOMKEY calls of the pilot: a 10% family is then seen ~200 times, a 0.1% one ~2 times. */
export const PILOT_CALLS = 2000;
/** RANDOMKEY calls per pipeline. */
const PILOT_PIPELINE = 500;

export interface PilotContext {
  cache: CacheReader & Required<Pick<CacheReader, 'randomKeys'>>;
  /** Every family of the rules file: a key none of them claims is uncovered. */
  families: readonly FamilyRule[];
  throttle: Throttle;
  owns?: (raw: Buffer) => boolean;
}

/** What one shared RANDOMKEY pilot saw of the keyspace. */
export interface Pilot {
  /** RANDOMKEY replies (keys, repeats included): the denominator of every share. */
  replies: number;
  /** Each family's share of the keyspace (keys of this shard its pattern claims / replies). */
  shares: Map<string, number>;
  /** Keys of this shard that no family claims: their share of the replies estimates `unmatched`. */
  uncovered: string[];
  /** RANDOMKEY calls sent. */
  calls: number;
}

/**
 * One pilot for every family: `calls` RANDOMKEY, pipelined, each pipeline taking one unit of
 * --rate per call. RANDOMKEY is not seedable, so neither is the pilot (nor the planner's choice
 * when a share sits near a threshold); the README says so.
 */
export async function runPilot(ctx: PilotContext, calls = PILOT_CALLS): Promise<Pilot> {
  const counts = new Map<string, number>(ctx.families.map((f) => [f.name, 0]));
  const uncovered: string[] = [];
  let replies = 0;
  let sent = 0;
  while (sent < calls) {
    const pipeline = Math.min(PILOT_PIPELINE, calls - sent);
    sent += pipeline;
    const keys = await ctx.cache.randomKeys(pipeline, (n) => ctx.throttle.take(n));
    replies += keys.length;
    for (const raw of keys) {
      if (ctx.owns !== undefined && !ctx.owns(raw)) continue;
      const text = keyMatchText(raw);
      let claimed = false;
      for (const family of ctx.families) {
        if (family.pattern.match(text) === undefined) continue;
        claimed = true;
        counts.set(family.name, (counts.get(family.name) ?? 0) + 1);
      }
      if (!claimed) uncovered.push(displayKey(raw));
    }
    // An empty keyspace answers nothing: no use asking again.
    if (keys.length === 0) break;
  }
  const shares = new Map([...counts].map(([name, n]) => [name, replies === 0 ? 0 : n / replies]));
  return { replies, shares, uncovered, calls: sent };
}
