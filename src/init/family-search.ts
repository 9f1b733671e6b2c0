/**
 * One pattern's way to a proposed family: analyse its sampled values, rank the tables it may
 * come from, probe a few ids against each, and hand the evidence to proposeFamily.
 */
import { qualifiedName, type TableInfo } from './catalog.js';
import { agreement, chooseOutcome, idField, rankCandidates, type KeyCandidate, type ProbeOutcome } from './candidates.js';
import { loadSpec } from './load-spec.js';
import { mapFieldsToColumns } from './names.js';
import { patternText, type InferredPattern } from './patterns.js';
import { analyzePayloads, type ValueSample } from './payloads.js';
import type { SourceRows } from './probe.js';
import { proposeFamily, type ProposalResult } from './proposal.js';
import { pickSample } from './sample.js';
import { collectionTypeOf, jsonArrays, proposeCollection, proposeJsonArray, type CollectionContext } from './collection-search.js';
import { counterValues, proposeCounter } from './counter-search.js';

/** Ids probed against each candidate table. */
export const PROBE_IDS = 50;

function targetOf(candidate: KeyCandidate) {
  return { source: candidate.table.source, load: loadSpec(candidate.table, candidate.column, undefined), key: candidate.column };
}

export async function searchFamily(
  pattern: InferredPattern,
  samples: readonly ValueSample[],
  tables: readonly TableInfo[],
  sources: SourceRows,
  scanned: number,
  log: (line: string) => void,
): Promise<ProposalResult> {
  const ctx = { pattern, samples, tables, sources, scanned };
  const many = await searchManyRows(ctx);
  if (many !== undefined) {
    if ('family' in many) log(`${many.family.pattern}: many rows per key, from ${'table' in many.family.load ? many.family.load.table : 'a query'} (source ${many.family.source})`);
    return many;
  }
  const one = await searchOneRow(ctx, log);
  if ('family' in one) return one;
  // Integers no column holds may count some table's rows; when they do not, the first reason stands.
  const counter = await searchCounter(ctx);
  if (counter !== undefined && 'family' in counter) {
    log(`${counter.family.pattern}: a counter guess, from a count of rows (source ${counter.family.source})`);
    return counter;
  }
  return one;
}

async function searchOneRow(ctx: CollectionContext, log: (line: string) => void): Promise<ProposalResult> {
  const { pattern, samples, tables, sources, scanned } = ctx;
  const label = patternText(pattern, 'id');
  const analysis = analyzePayloads(samples);
  if (analysis.type === undefined) {
    const types = [...analysis.typeCounts].map(([t, n]) => `${n} ${t}`).join(', ');
    return { skipped: `no sampled key is a string or a hash (${types})` };
  }
  const fields = analysis.fields.map((f) => f.name);
  const candidates = rankCandidates({ parts: pattern.parts, fields, shape: pattern.shape, idField: idField(analysis.payloads), tables });
  if (candidates.length === 0) return { skipped: 'no table is named like its key parts or has columns named like its cached fields' };

  const readIds = samples.filter((s) => s.redisType === analysis.type).map((s) => s.id);
  const decodedIds = [...analysis.payloads.keys()];
  const probeIds = pickSample(decodedIds.length > 0 ? decodedIds : readIds, PROBE_IDS);
  const outcomes: ProbeOutcome[] = [];
  for (const candidate of candidates) {
    const result = await sources.probe(targetOf(candidate), probeIds);
    const mapping = mapFieldsToColumns(
      fields,
      candidate.table.columns.map((c) => c.name),
    );
    let agreeing = 0;
    for (const [id, row] of result.rows) {
      const payload = analysis.payloads.get(id);
      if (payload !== undefined) agreeing += agreement(payload, row, mapping);
    }
    const outcome: ProbeOutcome = { candidate, probed: probeIds.length, found: result.rows.size, agreement: agreeing };
    if (result.error !== undefined) outcome.error = result.error;
    outcomes.push(outcome);
  }
  const { best, alike } = chooseOutcome(outcomes);
  if (best === undefined) {
    const tried = outcomes.map((o) => `${qualifiedName(o.candidate.table)}.${o.candidate.column} ${o.found}/${o.probed}${o.error === undefined ? '' : ' (error)'}`).join(', ');
    return { skipped: `too few of the probed ids exist in any candidate table (${tried})` };
  }
  const ties = alike.length === 0 ? '' : `; ${alike.length} other ${alike.length === 1 ? 'table fits' : 'tables fit'} exactly as well (see the review note)`;
  const all = await sources.probe(targetOf(best.candidate), [...new Set(readIds)]);
  const proposed = proposeFamily({ pattern, analysis, chosen: best, alike, rows: all.rows, ...(all.columns === undefined ? {} : { columns: all.columns }), scanned });
  // Named as the proposal names it: the placeholder is the key's (cached) name, not `{id}`.
  const named = 'family' in proposed ? proposed.family.pattern : label;
  log(`${named}: ${qualifiedName(best.candidate.table)} (source ${best.candidate.table.source}), key ${best.candidate.column}: ${best.found} of ${best.probed} probed ids found${ties}`);
  return proposed;
}

/** Keys holding many rows (a list, set, zset, or a JSON array in a string); undefined for other shapes. */
async function searchManyRows(ctx: CollectionContext): Promise<ProposalResult | undefined> {
  const type = collectionTypeOf(ctx.samples);
  if (type !== undefined) return proposeCollection(ctx, type);
  const arrays = jsonArrays(ctx.samples);
  return arrays === undefined ? undefined : proposeJsonArray(ctx, arrays);
}

/** Integers no table's column holds: a counter of some table's rows, perhaps. */
async function searchCounter(ctx: CollectionContext): Promise<ProposalResult | undefined> {
  const values = counterValues(ctx);
  return values === undefined ? undefined : proposeCounter(ctx, values);
}
