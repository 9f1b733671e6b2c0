import { UsageError } from '../errors.js';

/**
 * How a family's keys were drawn (`--sampling`), as the report states it:
 * - `scan`: a full SCAN (one pass shared by every scanning family) with reservoir sampling; exact.
 * - `random`: pipelined RANDOMKEY, keeping the family's keys and dropping repeats.
 * - `source`: random rows of the family's table rendered into keys; cannot find orphans.
 * - `all`: `--all`, every key of one full SCAN pass.
 */
export type SamplingMethod = 'scan' | 'random' | 'source' | 'all';

/** `--sampling`: a method for every family, or `auto` to let the planner choose per family. */
export type SamplingMode = 'auto' | 'scan' | 'random' | 'source';

export const SAMPLING_MODES: readonly SamplingMode[] = ['auto', 'scan', 'random', 'source'];

/** What the report says about one family's draw (JSON: `families[].sampling`). */
export interface SamplingReport {
  method: SamplingMethod;
  /** Keys the method looked at to draw this family's sample (SCAN replies' keys, RANDOMKEY replies, rows). */
  examined: number;
  /** Redis commands the draw sent (SCAN or RANDOMKEY calls; for `source`, the reads of rendered keys). */
  redisCalls: number;
  /** The method's known bias in one sentence, e.g. "cannot find orphaned keys (no row to render them from)". */
  bias?: string;
  /** `source`: rendered keys that had no cache entry, so were not judged. */
  notCached?: number;
  /** `--until-confident`: the keys judged when the bound was decided, and which way. */
  stoppedEarly?: { afterKeys: number; because: 'passes' | 'fails' };
  /**
   * The draw ended with fewer keys than `--sample` asked for a reason other than the family
   * holding fewer (RANDOMKEY's call limit reached, sampled rows without a cache entry): the
   * report must say the sample is short, since the gate judged only `drawn` keys.
   */
  short?: { asked: number; drawn: number; because: string };
  /** Why the planner chose this method, e.g. "family holds ~10% of 5,000,000 keys". */
  why?: string;
}

/** What the planner knows of one family. */
export interface FamilyFacts {
  name: string;
  /** The family's estimated share of the keyspace (0..1), from the pilot; undefined without one. */
  share?: number;
  /** The family has a `table` and its loader can pick random rows (`sampleIds`). */
  sourceSampling: boolean;
}

export interface PlanInputs {
  mode: SamplingMode;
  sample: number | 'all';
  /** Keys in the keyspace (DBSIZE; summed over the masters on a Cluster). */
  dbsize: number;
  /** The cache reader can send RANDOMKEY (`randomKeys`). */
  randomKeys: boolean;
  families: readonly FamilyFacts[];
}

export interface FamilyPlan {
  name: string;
  method: SamplingMethod;
  why: string;
  /** `random`: the RANDOMKEY calls after which the draw gives up (its sample is then smaller). */
  maxCalls?: number;
}

/** At or below this many keys, or 20 samples' worth, a full SCAN is cheap enough for auto to use it. */
export const SMALL_KEYSPACE_KEYS = 100_000;
export const SMALL_KEYSPACE_SAMPLES = 20;
/** auto picks `random` when its expected RANDOMKEY calls are at most this share of a full SCAN's keys. */
export const RANDOM_COST_SHARE = 0.1;
/**
 * Beyond this many RANDOMKEY calls per sampled key, auto prefers random rows of the family's table
 * when it has one (about two commands per key, whatever the family's share): RANDOMKEY's cost grows
 * as 1 / share, and a pilot's estimate of a rare family's share is noisy (a 20M-key benchmark saw
 * 1,014,500 calls, 43 s, where rows took 3.3 s).
 */
export const RANDOM_CALLS_PER_SAMPLE_BEFORE_SOURCE = 20;

/** Whether auto needs the families' shares (a pilot) to choose: a large keyspace and a sample. */
export function needsPilot(mode: SamplingMode, sample: number | 'all', dbsize: number, randomKeys: boolean): boolean {
  return mode === 'auto' && sample !== 'all' && randomKeys && !isSmallKeyspace(dbsize, sample);
}

function isSmallKeyspace(dbsize: number, sample: number): boolean {
  return dbsize <= SMALL_KEYSPACE_KEYS || dbsize <= SMALL_KEYSPACE_SAMPLES * sample;
}

/**
 * RANDOMKEY calls expected to draw `sample` distinct keys of a family holding `share` of `dbsize`
 * keys (coupon collecting: repeats grow as the sample nears the family's size); Infinity when the
 * family holds fewer keys than the sample.
 */
export function expectedRandomCalls(sample: number, share: number, dbsize: number): number {
  const familyKeys = share * dbsize;
  if (share <= 0 || familyKeys <= sample) return Infinity;
  return (familyKeys * Math.log(familyKeys / (familyKeys - sample))) / share;
}

/**
 * Chooses each family's method. Pure. An explicit method that cannot work for a family is a
 * UsageError naming it; `--all` is always one full pass.
 */
export function planSampling(inputs: PlanInputs): FamilyPlan[] {
  const { mode, sample, dbsize } = inputs;
  if (sample === 'all') {
    if (mode === 'random' || mode === 'source') {
      throw new UsageError(`--sampling ${mode} draws a sample: --all judges every key, which only a full SCAN can list`, {
        hint: 'drop --all, or use --sampling scan (or auto)',
      });
    }
    return inputs.families.map((f) => ({ name: f.name, method: 'all', why: '--all: every key of one full SCAN pass' }));
  }
  return inputs.families.map((family) => planFamily(family, inputs, sample, dbsize));
}

function planFamily(family: FamilyFacts, inputs: PlanInputs, sample: number, dbsize: number): FamilyPlan {
  const { name, share } = family;
  switch (inputs.mode) {
    case 'scan':
      return { name, method: 'scan', why: '--sampling scan' };
    case 'random':
      if (!inputs.randomKeys) throw new UsageError(`--sampling random: family "${name}": this Redis connection cannot send RANDOMKEY`);
      return { name, method: 'random', why: '--sampling random', maxCalls: randomCallCap(sample, share, dbsize) };
    case 'source':
      if (!family.sourceSampling) {
        throw new UsageError(`--sampling source: family "${name}" has no \`table\` whose rows its source can sample`, {
          hint: 'give the family a `table`, or use --sampling auto',
        });
      }
      return { name, method: 'source', why: '--sampling source' };
    case 'auto':
      return autoFamily(family, inputs, sample, dbsize);
  }
}

function autoFamily(family: FamilyFacts, inputs: PlanInputs, sample: number, dbsize: number): FamilyPlan {
  const { name, share } = family;
  const keys = count(dbsize);
  if (isSmallKeyspace(dbsize, sample)) return { name, method: 'scan', why: `the keyspace is small (${keys} keys): a full SCAN is cheap` };
  if (share === undefined || !inputs.randomKeys) {
    return { name, method: 'scan', why: `no RANDOMKEY pilot could estimate the family's share of ${keys} keys` };
  }
  const held = `the family holds ~${percent(share)} of ${keys} keys`;
  const calls = expectedRandomCalls(sample, share, dbsize);
  const rareForRandom = family.sourceSampling && calls > RANDOM_CALLS_PER_SAMPLE_BEFORE_SOURCE * sample;
  if (!rareForRandom && calls <= RANDOM_COST_SHARE * dbsize) {
    return { name, method: 'random', why: `${held}: about ${count(Math.ceil(calls))} RANDOMKEY calls instead of a SCAN of every key`, maxCalls: randomCallCap(sample, share, dbsize) };
  }
  if (family.sourceSampling) {
    return { name, method: 'source', why: `${held}, too rare for RANDOMKEY (${Number.isFinite(calls) ? `about ${count(Math.ceil(calls))} calls` : 'fewer keys than the sample'}): random rows of its table` };
  }
  return { name, method: 'scan', why: `${held}, too rare for RANDOMKEY and without a table to sample rows from` };
}

/**
 * A random draw gives up after three times the expected calls (a pilot's share is an estimate),
 * and never after more calls than a full SCAN would return keys; without a share, one keyspace's worth.
 */
function randomCallCap(sample: number, share: number | undefined, dbsize: number): number {
  const ceiling = Math.max(dbsize, sample * 10);
  if (share === undefined) return ceiling;
  const expected = expectedRandomCalls(sample, share, dbsize);
  return Number.isFinite(expected) ? Math.min(ceiling, Math.max(sample * 10, Math.ceil(expected * 3))) : ceiling;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(share: number): string {
  const p = share * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toPrecision(2)}%`;
}
