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
  const analysis = analyzePayloads(samples);
  const label = patternText(pattern, 'id');
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
