import type { CacheReader } from '../../cache/types.js';
import type { FamilyRule } from '../../core/rule.js';
import type { Tally } from '../../core/stats.js';
import { UsageError } from '../../errors.js';
import { needsPilot, planSampling, type FamilyPlan, type SamplingMode } from '../../core/sampling-plan.js';
import type { SourceLoader } from '../../sources/types.js';
import type { Throttle } from '../throttle.js';
import { runPilot, type Pilot } from './plan.js';
import { randomDraw } from './random-draw.js';
import { ScanPass } from './scan-pass.js';
import { sourceDraw } from './source-draw.js';
import type { FamilyDraw } from './types.js';
import { untilConfident } from './until-confident.js';

export interface DrawsContext {
  cache: CacheReader;
  loaders: ReadonlyMap<string, SourceLoader>;
  /** Every family of the rules file: decides which keys are claimed (not unmatched). */
  allFamilies: readonly FamilyRule[];
  throttle: Throttle;
  owns?: (raw: Buffer) => boolean;
  /** Each key a full pass found that no family claims. */
  onUnmatched(key: string): void;
  isStopped(): boolean;
}

export interface DrawsOptions {
  sampling: SamplingMode;
  sample: number | 'all';
  seed: number;
  batch: number;
  scanCount: number;
}

/** The families' draws, and what the planner measured to choose them. */
export interface Draws {
  draws: FamilyDraw[];
  plans: FamilyPlan[];
  /** The shared SCAN pass, when some family scans. */
  pass?: ScanPass;
  /** The RANDOMKEY pilot, when one ran (auto on a large keyspace, or to estimate coverage). */
  pilot?: Pilot;
  dbsize: number;
}

/**
 * Plans every family's method (core/sampling-plan.ts), running the shared RANDOMKEY pilot first
 * when auto needs the families' shares, and builds each family's draw. When no family scans, the
 * pilot also runs (if it has not) so that `unmatched` can be estimated from it.
 */
export async function buildDraws(families: readonly FamilyRule[], ctx: DrawsContext, options: DrawsOptions): Promise<Draws> {
  const { cache } = ctx;
  const dbsize = await cache.size();
  const withRandom = cache.randomKeys === undefined ? undefined : { ...ctx, cache: cache as CacheReader & Required<Pick<CacheReader, 'randomKeys'>>, families: ctx.allFamilies };
  let pilot = withRandom !== undefined && needsPilot(options.sampling, options.sample, dbsize, true) ? await runPilot(withRandom) : undefined;
  const plans = planSampling({
    mode: options.sampling,
    sample: options.sample,
    dbsize,
    randomKeys: cache.randomKeys !== undefined,
    families: families.map((f) => ({
      name: f.name,
      ...(pilot === undefined ? {} : { share: pilot.shares.get(f.name) ?? 0 }),
      sourceSampling: f.table !== undefined && ctx.loaders.get(f.source)?.sampleIds !== undefined,
    })),
  });
  const scanning = families.filter((_, i) => plans[i]?.method === 'scan' || plans[i]?.method === 'all');
  if (scanning.length === 0 && pilot === undefined && withRandom !== undefined && dbsize > 0) pilot = await runPilot(withRandom);
  const pass =
    scanning.length === 0
      ? undefined
      : new ScanPass(
          scanning,
          { cache, families: ctx.allFamilies, throttle: ctx.throttle, onUnmatched: ctx.onUnmatched, isStopped: ctx.isStopped, ...(ctx.owns === undefined ? {} : { owns: ctx.owns }) },
          {
            sample: options.sample,
            seed: options.seed,
            batch: options.batch,
            scanCount: options.scanCount,
            // A --family run lists only its families' common prefix; a run of every family, the keyspace.
            commonPrefixOnly: families.length < ctx.allFamilies.length,
          },
        );
  const draws = families.map((rule, i) => drawFor(rule, plans[i] as FamilyPlan, pass, ctx, options));
  return { draws, plans, dbsize, ...(pass === undefined ? {} : { pass }), ...(pilot === undefined ? {} : { pilot }) };
}

function drawFor(rule: FamilyRule, plan: FamilyPlan, pass: ScanPass | undefined, ctx: DrawsContext, options: DrawsOptions): FamilyDraw {
  const common = { cache: ctx.cache, throttle: ctx.throttle, isStopped: ctx.isStopped, ...(ctx.owns === undefined ? {} : { owns: ctx.owns }) };
  const sample = options.sample === 'all' ? 0 : options.sample;
  let draw: FamilyDraw;
  if (plan.method === 'random') {
    draw = randomDraw(rule, common, { sample, batch: options.batch, maxCalls: plan.maxCalls ?? Math.max(sample * 10, 1) });
  } else if (plan.method === 'source') {
    const loader = ctx.loaders.get(rule.source);
    if (loader === undefined) throw new Error(`no loader for source "${rule.source}"`);
    draw = sourceDraw(rule, { ...common, loader }, { sample, batch: options.batch, seed: options.seed });
  } else if (pass !== undefined) {
    draw = pass.draw(rule);
  } else {
    throw new Error(`family "${rule.name}": planned to scan, but no scan pass was built`);
  }
  // The planner's reason first, then what the draw adds (a shared pass).
  return { ...draw, report: () => ({ ...draw.report(), why: joinWhy(plan.why, draw.report().why) }) };
}

function joinWhy(planned: string, drawn: string | undefined): string {
  return drawn === undefined ? planned : `${planned}; ${drawn}`;
}

/**
 * `--until-confident`: the family's draw stops once its tally decides its threshold, the family's
 * `minConsistency` first, else the run's `--min-consistency`; unchanged without the flag.
 */
export function withUntilConfident(draw: FamilyDraw, tally: Tally, until: { minConsistency?: number } | undefined): FamilyDraw {
  if (until === undefined) return draw;
  const threshold = draw.rule.minConsistency ?? until.minConsistency;
  if (threshold === undefined) {
    throw new UsageError(`--until-confident: family "${draw.rule.name}" has no minConsistency to be confident about`, {
      hint: 'give the family a minConsistency in the rules file, or pass --min-consistency',
    });
  }
  return untilConfident(draw, tally, threshold);
}
