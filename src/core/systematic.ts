/**
 * Systematic differences: when most of a family's differing keys differ on the same field in the
 * same way (an ISO timestamp cached for a date, epoch seconds for milliseconds, another case or
 * precision, a number for a string), the cause is a rules or normalization problem, not stale
 * data, whatever reason each key's verdict carries. Verdicts are not changed (SEMANTICS.md); the
 * run says so once per family, first in every report, and `explain` gives the same hint for a key.
 *
 * Works from what a finding carries: each FieldDiff's values after normalization and
 * displayValue (strings, numbers, booleans, null, plain arrays and objects; exact numbers as
 * decimal text). A redacted field shows REDACTED on both sides: it is never recognised, so no
 * message can reveal anything about its values. Messages name forms ("ISO timestamp", "date"),
 * never values.
 */
import { timeTransformation } from './time-transformation.js';
import { REMEDY, transformation, type Transformation } from './transformation.js';
import { numberTransformation, textTransformation, typeTransformation } from './value-transformation.js';
import { REDACTED, type Finding } from './verdict.js';
import type { RunWarning } from './warning.js';

export type { Transformation, TransformationKind } from './transformation.js';

/**
 * The transformation that turns one side of a field into the other, or undefined when the values
 * simply differ (stale data: 'basic' vs 'pro', 10 vs 12) or cannot be told apart (redacted).
 */
export function recognizeTransformation(cache: unknown, source: unknown): Transformation | undefined {
  if (cache === REDACTED && source === REDACTED) return undefined;
  const cacheNull = cache === null || cache === undefined;
  const sourceNull = source === null || source === undefined;
  if (cacheNull || sourceNull) {
    if (cacheNull && sourceNull) return undefined;
    if (cache === '' || source === '') {
      return cache === '' ? transformation('empty-vs-null', 'empty string', 'null', REMEDY.empty) : transformation('empty-vs-null', 'null', 'empty string', REMEDY.empty);
    }
    return cacheNull
      ? transformation('presence', 'null or missing', 'a value', REMEDY.presence)
      : transformation('presence', 'a value', 'null or missing', REMEDY.presence);
  }
  return timeTransformation(cache, source) ?? typeTransformation(cache, source) ?? textTransformation(cache, source) ?? numberTransformation(cache, source);
}

// ---------------------------------------------------------------------------------------------
// The per-family tally

/**
 * Thresholds for concluding that a family's differences are systematic. All must hold for one
 * (field, transformation) pair:
 * - at least SYSTEMATIC_MIN_KEYS keys show it: fewer is anecdote;
 * - they are at least SYSTEMATIC_MIN_SHARE of the family's differing keys (within-ttl and
 *   divergent keys with a field diff, converged excluded): "most of the differences";
 * - they are at least SYSTEMATIC_MIN_JUDGED_SHARE of the family's judged keys. This keeps a
 *   family with a few stale keys among many matches out, even when each of those few happens to
 *   look like a transformation (a nullable column set since the entry was cached): 2% stale keys
 *   can never trigger. A null-vs-value pair (`presence`) is what ordinary staleness produces
 *   most, so it needs PRESENCE_MIN_JUDGED_SHARE of the judged keys.
 */
export const SYSTEMATIC_MIN_KEYS = 5;
export const SYSTEMATIC_MIN_SHARE = 0.8;
export const SYSTEMATIC_MIN_JUDGED_SHARE = 0.1;
export const PRESENCE_MIN_JUDGED_SHARE = 0.5;
/**
 * Distinct (field, transformation) pairs tracked per family; later new pairs are not counted.
 * Paths are counted with array indices folded (`items[].at`), so only object keys that come from
 * data (a map keyed by ids) can reach this, and a pair that most keys share is seen early.
 */
export const MAX_PAIRS_PER_FAMILY = 256;
/** Warnings per family, most keys first. */
export const MAX_WARNINGS_PER_FAMILY = 5;

interface Pair {
  field: string;
  transformation: Transformation;
  keys: number;
}

interface FamilyState {
  judged: number;
  differing: number;
  pairs: Map<string, Pair>;
}

/** The finding fields the tally reads. */
export type TalliedFinding = Pick<Finding, 'family' | 'verdict' | 'reason' | 'diff'>;

/**
 * A diff path with array indices and collection members folded, so `items[0].at` and
 * `items[7].at`, or `members[42].at` and `variants[SKU-1].at` of every key, count as one field.
 * Quoted object keys (`meta["a.b"]`) are field names, not members: they stay.
 */
export function fieldOf(path: string): string {
  return path.replace(/\[(?!")[^\]]*\]/g, '[]');
}

/** The transformations of one key's diff: each (folded field, transformation) once. */
export function keyTransformations(diff: Finding['diff']): { field: string; transformation: Transformation }[] {
  const seen = new Map<string, { field: string; transformation: Transformation }>();
  for (const d of diff) {
    // A collection's membership or order change (`+42, -17`) is data, never a form of a value.
    if (d.change !== undefined) continue;
    const t = recognizeTransformation(d.cache, d.source);
    if (t === undefined) continue;
    const field = fieldOf(d.path);
    const id = `${field}\u0000${t.signature}`;
    if (!seen.has(id)) seen.set(id, { field, transformation: t });
  }
  return [...seen.values()];
}

/**
 * Streams the judged keys of a run (one population: the sample) and concludes, at the end, which
 * families differ systematically. Memory: per family two counters and at most
 * MAX_PAIRS_PER_FAMILY pairs, whatever the number of keys.
 */
export class SystematicTally {
  private readonly families = new Map<string, FamilyState>();

  add(finding: TalliedFinding): void {
    const { verdict } = finding;
    if (verdict !== 'match' && verdict !== 'within-ttl' && verdict !== 'divergent') return;
    let state = this.families.get(finding.family);
    if (state === undefined) {
      state = { judged: 0, differing: 0, pairs: new Map() };
      this.families.set(finding.family, state);
    }
    state.judged++;
    // A converged key matched on its second read: what it showed first was a write in flight.
    if (verdict === 'match' || finding.reason === 'converged' || finding.diff.length === 0) return;
    state.differing++;
    for (const { field, transformation } of keyTransformations(finding.diff)) {
      const id = `${field}\u0000${transformation.signature}`;
      const pair = state.pairs.get(id);
      if (pair !== undefined) pair.keys++;
      else if (state.pairs.size < MAX_PAIRS_PER_FAMILY) state.pairs.set(id, { field, transformation, keys: 1 });
    }
  }

  /** The run's systematic warnings, families in the order first seen, most keys first within one. */
  warnings(): RunWarning[] {
    const out: RunWarning[] = [];
    for (const [family, state] of this.families) {
      const found = [...state.pairs.values()]
        .filter((p) => isSystematic(p, state))
        .sort((a, b) => b.keys - a.keys)
        .slice(0, MAX_WARNINGS_PER_FAMILY);
      for (const p of found) out.push({ kind: 'systematic', family, field: p.field, message: systematicMessage(p, state) });
    }
    return out;
  }
}

function isSystematic(pair: Pair, state: FamilyState): boolean {
  const minJudged = pair.transformation.kind === 'presence' ? PRESENCE_MIN_JUDGED_SHARE : SYSTEMATIC_MIN_JUDGED_SHARE;
  return pair.keys >= SYSTEMATIC_MIN_KEYS && pair.keys >= SYSTEMATIC_MIN_SHARE * state.differing && pair.keys >= minJudged * state.judged;
}

function systematicMessage(pair: Pair, state: FamilyState): string {
  const t = pair.transformation;
  const problem =
    t.kind === 'presence' ? 'likely a rules problem (a field one side does not hold), not stale data' : 'likely a rules or normalization problem, not stale data';
  return (
    `field \`${pair.field}\` differs on ${pair.keys}/${state.differing} differing keys the same way (${state.judged} judged): ` +
    `${t.summary}; ${problem}; check ${t.remedy}`
  );
}

/**
 * For `explain`: the hint for one key whose differing fields are all recognised transformations
 * (undefined when any field differs in value, which is what stale data looks like). Given instead
 * of the reason's likely cause, which for stale-repopulated would blame a race.
 */
export function transformationHint(diff: Finding['diff']): string | undefined {
  if (diff.length === 0) return undefined;
  // One key with a value on one side only is what a stale entry of a nullable column looks like:
  // only a family-wide tally can call that a rules problem.
  const found = keyTransformations(diff).filter((f) => f.transformation.kind !== 'presence');
  const transformed = new Set(found.map((f) => f.field));
  if (!diff.every((d) => transformed.has(fieldOf(d.path)))) return undefined;
  const fields = found.map((f) => `field \`${f.field}\`: ${f.transformation.summary}`).join('; ');
  const remedies = [...new Set(found.map((f) => f.transformation.remedy))].join('; ');
  return `${fields}: the same value in another form, likely a rules or normalization problem, not stale data (check ${remedies})`;
}

/** For `explain`: fields of a key that differ only in form, beside others that differ in value. */
export function transformationNotes(diff: Finding['diff']): string[] {
  return keyTransformations(diff)
    .filter((f) => f.transformation.kind !== 'presence')
    .map((f) => `field \`${f.field}\` differs only in form: ${f.transformation.summary}`);
}

/**
 * The systematic warnings of `family` as one clause for a gate failure, or undefined when it has
 * none: "suspected rules problem in family `events`: field `day` ...".
 */
export function suspectedRulesProblem(warnings: readonly RunWarning[] | undefined, family: string): string | undefined {
  const mine = (warnings ?? []).filter((w) => w.kind === 'systematic' && w.family === family);
  if (mine.length === 0) return undefined;
  return `suspected rules problem in family ${family}, not stale data: ${mine.map((w) => w.message.replace(/; likely a .*$/, '')).join('; ')}`;
}
