import type { KeyspaceCoverage } from './run-summary.js';
import type { SamplingReport } from './sampling-plan.js';
import type { FamilyCounters } from './stats.js';

/** Prefixes a merged report lists, as an audit does. */
const PREFIXES_LISTED = 10;

/**
 * The shards' keyspace coverage as one: their unmatched keys summed (each shard counted or
 * estimated the keys of its own slots), exact only when every shard's was, and the prefixes'
 * keys summed by prefix. Undefined when no shard reported coverage (reports older than issue 16).
 */
export function mergeCoverage(coverages: readonly (KeyspaceCoverage | undefined)[]): KeyspaceCoverage | undefined {
  const known = coverages.filter((c): c is KeyspaceCoverage => c !== undefined);
  if (known.length === 0) return undefined;
  const prefixes = new Map<string, number>();
  for (const c of known) for (const p of c.uncoveredPrefixes) prefixes.set(p.prefix, (prefixes.get(p.prefix) ?? 0) + p.keys);
  const exact = known.length === coverages.length && known.every((c) => c.exact);
  const bases = [...new Set(known.map((c) => c.basis))];
  const scopes = [...new Set(known.map((c) => c.scope))];
  return {
    unmatched: known.reduce((n, c) => n + c.unmatched, 0),
    exact,
    basis: `${known.length} shards: ${bases.join('; ')}`,
    ...(scopes.length === 1 && scopes[0] !== undefined ? { scope: scopes[0] } : {}),
    uncoveredPrefixes: [...prefixes]
      .map(([prefix, keys]) => ({ prefix, keys }))
      .sort((a, b) => b.keys - a.keys || (a.prefix < b.prefix ? -1 : 1))
      .slice(0, PREFIXES_LISTED),
  };
}

/**
 * A family's sampling over the shards: the work of every shard summed (each drew its own part),
 * the method when all agree (else the first shard's, said in `why`), and early stops dropped
 * (each shard decided on its own keys only).
 */
export function mergeSampling(perShard: readonly (SamplingReport | undefined)[]): SamplingReport | undefined {
  const known = perShard.filter((s): s is SamplingReport => s !== undefined);
  const first = known[0];
  if (first === undefined) return undefined;
  const methods = [...new Set(known.map((s) => s.method))];
  const notCached = known.reduce((n, s) => n + (s.notCached ?? 0), 0);
  // Each short shard's shortfall, summed: a merged report must not hide that a shard drew too few.
  const shorts = known.flatMap((s) => (s.short === undefined ? [] : [s.short]));
  return {
    method: first.method,
    examined: known.reduce((n, s) => n + s.examined, 0),
    redisCalls: known.reduce((n, s) => n + s.redisCalls, 0),
    why: methods.length === 1 ? `merged from ${known.length} shards` : `merged from ${known.length} shards drawn by ${methods.join(', ')}`,
    ...(first.bias === undefined ? {} : { bias: first.bias }),
    ...(known.some((s) => s.notCached !== undefined) ? { notCached } : {}),
    ...(shorts.length === 0
      ? {}
      : {
          short: {
            asked: shorts.reduce((n, s) => n + s.asked, 0),
            drawn: shorts.reduce((n, s) => n + s.drawn, 0),
            because: `${shorts.length} of ${known.length} shards drew short: ${shorts[0]?.because ?? ''}`,
          },
        }),
  };
}

/** The merged families with each one's merged sampling, when the shards' reports carried it. */
export function withMergedSampling(families: FamilyCounters[], shards: readonly (readonly FamilyCounters[])[]): FamilyCounters[] {
  return families.map((f) => {
    const sampling = mergeSampling(shards.map((list) => list.find((x) => x.name === f.name)?.sampling));
    return sampling === undefined ? f : { ...f, sampling };
  });
}
