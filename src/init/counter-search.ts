/**
 * A string holding an integer under `post:{id}:likes`, where a table `posts` has rows per id and
 * a table `likes` has a `post_id` column: a counter kept with INCR, perhaps. Proposed as a
 * count(*) with a LEFT JOIN and a tolerance, always marked "review: counter guess": the
 * aggregate and the allowed lag are the application's, which no sample can show for sure.
 */
import { Buffer } from 'node:buffer';
import { qualifiedName, type TableInfo } from './catalog.js';
import { counterValue } from './collection-shapes.js';
import { ownerColumn } from './collection-target.js';
import type { CollectionContext } from './collection-search.js';
import { counterQuery } from './load-spec.js';
import { nameMatchLevel, placeholderName, words } from './names.js';
import { familyName, patternText } from './patterns.js';
import type { FamilyProposal, ProposalResult } from './proposal.js';
import { pickSample } from './sample.js';
import { describeTtl, formatDuration, proposeTtl } from './ttl.js';

const PROBE_KEYS = 100;
/** The tolerance proposed covers this share of the sampled counters' differences; the rest stay divergent. */
const COVERED = 0.9;

/** The sampled integers by id, when every sampled string holds one. */
export function counterValues(ctx: Pick<CollectionContext, 'samples'>): Map<string, bigint> | undefined {
  const strings = ctx.samples.filter((s) => s.redisType === 'string' && Buffer.isBuffer(s.value));
  const out = new Map<string, bigint>();
  for (const s of strings) {
    const n = counterValue(s.value as Buffer);
    if (n === undefined) return undefined;
    out.set(s.id, n);
  }
  return out.size > 0 ? out : undefined;
}

/**
 * The smallest lag that covers COVERED of the sampled differences: one far-off counter is a bug
 * to report, not a reason to widen the tolerance until it matches.
 */
export function proposeTolerance(differences: readonly bigint[]): number {
  if (differences.length === 0) return 0;
  const sorted = [...differences].map((d) => (d < 0n ? -d : d)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Number(sorted[Math.ceil(COVERED * sorted.length) - 1] ?? 0n);
}

export async function proposeCounter(ctx: CollectionContext, values: ReadonlyMap<string, bigint>): Promise<ProposalResult> {
  const hole = ctx.pattern.parts.indexOf(null);
  const owner = ctx.pattern.parts[hole - 1];
  const counted = ctx.pattern.parts[hole + 1];
  if (hole < 1 || owner === null || owner === undefined || counted === null || counted === undefined) {
    return { skipped: 'the values are integers, and the key names no counted table after its id (like post:{id}:likes)' };
  }
  // The connection's own schema first, as for one-row families (another schema may hold a copy).
  const preferred = (a: TableInfo, b: TableInfo) => Number(b.inDefaultSchema) - Number(a.inDefaultSchema);
  const parents = ctx.tables.filter((t) => nameMatchLevel(owner, t.name) >= 2 && t.primaryKey.length === 1).sort(preferred);
  const children = ctx.tables.filter((t) => nameMatchLevel(counted, t.name) >= 2 && ownerColumn(t, owner) !== undefined).sort(preferred);
  const countAs = words(counted).join('_');
  const ids = pickSample([...values.keys()], PROBE_KEYS);
  for (const parent of parents) {
    // The child beside its parent first: tables of one schema belong together.
    const beside = children.filter((c) => c.source === parent.source).sort((a, b) => Number(b.schema === parent.schema) - Number(a.schema === parent.schema));
    for (const child of beside) {
      const parentKey = parent.primaryKey[0] as string;
      const childKey = (ownerColumn(child, owner) as { name: string }).name;
      const query = counterQuery(parent, parentKey, child, childKey, countAs);
      const result = await ctx.sources.probe({ source: parent.source, load: { query }, key: parentKey }, ids);
      if (result.error !== undefined || result.rows.size === 0) continue;
      const differences: bigint[] = [];
      for (const id of ids) {
        const count = result.rows.get(id)?.[countAs];
        if (count === undefined || count === null) continue;
        differences.push((values.get(id) as bigint) - BigInt(String(count)));
      }
      const exact = differences.filter((d) => d === 0n).length;
      // Mostly equal: a counter of these rows. Mostly different: another number (a cached price, a rank).
      if (differences.length === 0 || exact * 2 < differences.length) continue;
      const tolerance = proposeTolerance(differences);
      const largest = differences.reduce((m, d) => (d < 0n ? -d : d) > m ? (d < 0n ? -d : d) : m, 0n);
      const pttls = ctx.samples.filter((s) => values.has(s.id)).map((s) => s.pttlMs ?? -2).filter((p) => p >= -1);
      const ttl = proposeTtl(pttls);
      const family: FamilyProposal = {
        name: familyName(ctx.pattern),
        pattern: patternText(ctx.pattern, placeholderName(parentKey)),
        type: 'string',
        codec: 'raw',
        source: parent.source,
        load: { query },
        key: parentKey,
        fields: [countAs],
        tolerance,
        ttl: formatDuration(ttl.ttlMs),
        normalize: {},
        redact: [],
        notes: {
          family: [`review: counter guess: ${ctx.pattern.keys.length} of ${ctx.scanned} scanned keys, like ${ctx.pattern.keys[0] as string}, hold an integer`],
          type: [`guess: ${values.size} sampled values are whole numbers (INCR keeps them so)`],
          source: [`guess: ${qualifiedName(parent)} has the rows per id; ${qualifiedName(child)}.${childKey} names them`],
          load: [`review: counter guess: the count of ${qualifiedName(child)} rows per ${qualifiedName(parent)} row (0 with none); if the application counts something else (distinct users, a filter), write its query`],
          tolerance: [
            `review: counter guess: ${exact} of ${differences.length} sampled counters equal the count exactly, the largest difference is ${largest}; ${tolerance} covers ${Math.round(COVERED * 100)}% of them. Set the lag the application allows (0 for none)`,
          ],
          ttl: [describeTtl(ttl), 'review: counters kept with INCR usually have no expiry, and a differing one without it is divergent/no-ttl'],
        },
        keyCount: ctx.pattern.keys.length,
      };
      return { family };
    }
  }
  return { skipped: `the values are integers, and no table pair counts them (a table named like "${owner}" and one named like "${counted}" with a column named after "${owner}")` };
}
