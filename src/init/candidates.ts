/**
 * Which table (and key column) a pattern's keys were copied from: candidates by name and by the
 * columns the cached fields name, then the probe (probe.ts) decides: the candidate where most
 * sampled ids exist, then where most cached values agree with the rows.
 */
import { valuesEqual } from '../core/compare.js';
import { qualifiedName, type ColumnCategory, type TableInfo } from './catalog.js';
import { mapFieldsToColumns, nameMatchLevel, singular, words } from './names.js';
import type { IdShape } from './tokens.js';

export const MAX_TABLES = 6;
export const MAX_KEYS_PER_TABLE = 3;
/** A table is taken only when at least this share of the probed ids exist in it. */
export const MIN_FOUND_SHARE = 0.3;

export interface KeyCandidate {
  table: TableInfo;
  column: string;
  /** Why this column: `primary key`, `unique`, `holds the cached field X`, `named like an id`. */
  why: string;
  nameScore: number;
  fieldOverlap: number;
}

export interface CandidateInput {
  /** The pattern's parts, null at the placeholder. */
  parts: readonly (string | null)[];
  /** Top-level fields of the cached payloads. */
  fields: readonly string[];
  shape: IdShape;
  /** A cached field that holds the key's id, if one does. */
  idField: string | undefined;
  tables: readonly TableInfo[];
}

/** Name score: the best match of a literal part, weighted by its nearness to the placeholder. */
export function nameScore(parts: readonly (string | null)[], table: string): number {
  const hole = parts.indexOf(null);
  let best = 0;
  parts.forEach((part, i) => {
    if (part === null) return;
    const weight = i === hole - 1 ? 3 : i === hole + 1 ? 2 : 1;
    best = Math.max(best, nameMatchLevel(part, table) * weight);
  });
  return best;
}

const COMPATIBLE: Record<IdShape, readonly ColumnCategory[]> = {
  digits: ['integer', 'decimal', 'text', 'other'],
  uuid: ['uuid', 'text', 'other'],
  alnum: ['text', 'other'],
  name: ['text', 'other'],
};

/** Key columns to probe in one table, best first. */
function keyColumns(table: TableInfo, input: CandidateInput, mapping: ReadonlyMap<string, string>): { column: string; why: string }[] {
  const out: { column: string; why: string }[] = [];
  const add = (column: string | undefined, why: string) => {
    if (column === undefined || out.some((o) => o.column === column)) return;
    const info = table.columns.find((c) => c.name === column);
    if (info !== undefined && COMPATIBLE[input.shape].includes(info.category)) out.push({ column, why });
  };
  if (table.primaryKey.length === 1) add(table.primaryKey[0], 'the primary key');
  for (const column of table.uniqueColumns) add(column, 'a unique column');
  if (input.idField !== undefined) add(mapping.get(input.idField), `the column of the cached field ${input.idField}, which equals the id`);
  const entity = singular(words(table.name).at(-1) ?? '');
  for (const c of table.columns) {
    const name = words(c.name).join('_');
    if (name === 'id' || name === `${entity}_id`) add(c.name, 'named like an id');
  }
  return out.slice(0, MAX_KEYS_PER_TABLE);
}

export function rankCandidates(input: CandidateInput): KeyCandidate[] {
  const scored = input.tables.map((table) => {
    const mapping = mapFieldsToColumns(
      input.fields,
      table.columns.map((c) => c.name),
    );
    return { table, mapping, nameScore: nameScore(input.parts, table.name), fieldOverlap: mapping.size };
  });
  const plausible = scored
    .filter((s) => s.nameScore > 0 || (s.fieldOverlap >= 2 && s.fieldOverlap * 2 >= input.fields.length))
    .sort(
      (a, b) =>
        b.nameScore - a.nameScore ||
        b.fieldOverlap - a.fieldOverlap ||
        Number(b.table.inDefaultSchema) - Number(a.table.inDefaultSchema) ||
        qualifiedName(a.table).localeCompare(qualifiedName(b.table)),
    )
    .slice(0, MAX_TABLES);
  return plausible.flatMap((s) =>
    keyColumns(s.table, input, s.mapping).map(({ column, why }) => ({ table: s.table, column, why, nameScore: s.nameScore, fieldOverlap: s.fieldOverlap })),
  );
}

/** A cached field whose value is the key's id in most payloads (`{"id": 42}` under `user:42`). */
export function idField(payloads: ReadonlyMap<string, Readonly<Record<string, unknown>>>): string | undefined {
  const hits = new Map<string, number>();
  for (const [id, payload] of payloads) {
    for (const [field, value] of Object.entries(payload)) {
      if (value !== null && typeof value !== 'object' ? String(value) === id : valuesEqual(value, id)) hits.set(field, (hits.get(field) ?? 0) + 1);
    }
  }
  let best: [string, number] | undefined;
  for (const entry of hits) if (best === undefined || entry[1] > best[1]) best = entry;
  return best !== undefined && best[1] >= 0.8 * payloads.size ? best[0] : undefined;
}

/** How many of the mapped fields of a payload agree with its row, ignoring letter case and spaces. */
export function agreement(payload: Readonly<Record<string, unknown>>, row: Readonly<Record<string, unknown>>, mapping: ReadonlyMap<string, string>): number {
  let n = 0;
  for (const [field, column] of mapping) {
    const c = payload[field];
    const r = row[column];
    if (valuesEqual(c, r) || (typeof c === 'string' && typeof r === 'string' && c.trim().toLowerCase() === r.trim().toLowerCase())) n++;
  }
  return n;
}

export interface ProbeOutcome {
  candidate: KeyCandidate;
  probed: number;
  found: number;
  /** Sum over found rows of agreeing fields. */
  agreement: number;
  error?: string;
}

/**
 * Outcomes best first: most values agreeing, most ids found, in the default schema, best named.
 * Agreement comes first because id existence alone is weak evidence: any table with a dense id
 * range (another service's, a benchmark's) holds every sampled id, while the cache's own table
 * misses the ids of orphaned entries, which a sample of a stale cache often contains.
 */
export function rankOutcomes(outcomes: readonly ProbeOutcome[]): ProbeOutcome[] {
  return [...outcomes].sort(
    (a, b) =>
      b.agreement - a.agreement ||
      b.found - a.found ||
      Number(b.candidate.table.inDefaultSchema) - Number(a.candidate.table.inDefaultSchema) ||
      b.candidate.nameScore - a.candidate.nameScore ||
      b.candidate.fieldOverlap - a.candidate.fieldOverlap ||
      qualifiedName(a.candidate.table).localeCompare(qualifiedName(b.candidate.table)),
  );
}

/** The best outcome if enough ids were found, and the other tables that fit exactly as well. */
export function chooseOutcome(outcomes: readonly ProbeOutcome[]): { best: ProbeOutcome | undefined; alike: ProbeOutcome[] } {
  const [best, ...rest] = rankOutcomes(outcomes.filter((o) => o.found > 0 && o.found >= MIN_FOUND_SHARE * o.probed));
  if (best === undefined) return { best: undefined, alike: [] };
  const alike = rest.filter((o) => o.found === best.found && o.agreement === best.agreement && o.candidate.table !== best.candidate.table);
  return { best, alike };
}
