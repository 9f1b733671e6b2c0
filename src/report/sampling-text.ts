import type { KeyspaceCoverage, RunSummary } from '../core/run-summary.js';
import type { SamplingReport } from '../core/sampling-plan.js';

/**
 * The words the table and markdown formats share for how each family was sampled and what the
 * keyspace holds that no family covers. Plain text: each format escapes it (the prefixes come
 * from the cache).
 */

/** The coverage figures of a run, when its report has them (older reports and merged ones may not). */
export function keyspaceOf(run: RunSummary): KeyspaceCoverage | undefined {
  const c = run.coverage;
  if (c === undefined || c.unmatched === undefined || c.exact === undefined) return undefined;
  return { unmatched: c.unmatched, exact: c.exact, basis: c.basis ?? '', uncoveredPrefixes: c.uncoveredPrefixes ?? [] };
}

/** `unmatched: ~1,200 key(s) no family covers (estimated: …)`. */
export function unmatchedSentence(run: RunSummary): string {
  const keyspace = keyspaceOf(run);
  if (keyspace === undefined) return `unmatched: ${run.summary.unmatched} key(s) matched no family`;
  const n = run.summary.unmatched.toLocaleString('en-US');
  return keyspace.exact ? `unmatched: ${n} key(s) no family covers (exact: ${keyspace.basis})` : `unmatched: ~${n} key(s) no family covers (estimated: ${keyspace.basis})`;
}

/** The commonest uncovered prefixes with their keys, e.g. [`session:`, '1,200']. */
export function uncoveredPrefixes(run: RunSummary, shown = 5): { prefix: string; keys: string }[] {
  const keyspace = keyspaceOf(run);
  const approx = keyspace?.exact === false ? '~' : '';
  return (keyspace?.uncoveredPrefixes ?? []).slice(0, shown).map((p) => ({ prefix: p.prefix, keys: `${approx}${p.keys.toLocaleString('en-US')}` }));
}

/** `item: random, 10,234 keys examined in 10,234 Redis calls (the family holds ~10% …)`. */
export function samplingSentence(s: SamplingReport): string {
  const parts = [`${s.method}, ${s.examined.toLocaleString('en-US')} keys examined in ${s.redisCalls.toLocaleString('en-US')} Redis calls`];
  if (s.short !== undefined) parts.push(`SHORT SAMPLE: drew only ${s.short.drawn.toLocaleString('en-US')} of the ${s.short.asked.toLocaleString('en-US')} keys asked (${s.short.because})`);
  if (s.notCached !== undefined && s.notCached > 0) parts.push(`${s.notCached} sampled rows had no cache entry (not judged)`);
  if (s.stoppedEarly !== undefined) parts.push(`stopped early: the bound already ${s.stoppedEarly.because} after ${s.stoppedEarly.afterKeys} judged keys (the keys then in flight were judged too)`);
  const notes = [s.why, s.bias].filter((t): t is string => t !== undefined && t !== '');
  return notes.length === 0 ? parts.join('; ') : `${parts.join('; ')} (${notes.join('; ')})`;
}
