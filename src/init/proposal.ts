/**
 * One proposed family from the evidence gathered for a pattern: the sampled values, the table
 * the probe chose, and that table's rows for the sampled ids. Pure: every decision here is a
 * function of its inputs, and each comes with the note that explains it.
 */
import type { ColumnType, ColumnTypes } from '../core/column-type.js';
import { valuesEqual } from '../core/compare.js';
import type { CodecName } from '../core/rule.js';
import { qualifiedName, type TableInfo } from './catalog.js';
import type { ProbeOutcome } from './candidates.js';
import { comparedFields, personalFields, pickUpdatedAt, pickVersion } from './columns.js';
import { loadSpec, type LoadSpec, type SelectColumn } from './load-spec.js';
import { mapFieldsToColumns, placeholderName } from './names.js';
import { inferNormalizers } from './normalizers.js';
import { familyName, patternText, type InferredPattern } from './patterns.js';
import { markerCandidate, type PayloadAnalysis } from './payloads.js';
import { describeTtl, formatDuration, proposeTtl } from './ttl.js';

export type NoteKey = 'family' | 'pattern' | 'type' | 'source' | 'load' | 'key' | 'rows' | 'orderBy' | 'member' | 'score' | 'fields' | 'version' | 'updatedAt' | 'tolerance' | 'ttl' | 'normalize' | 'redact' | 'negativeMarker';

/** `rows: many` as the file writes it. */
export interface ManyProposal {
  orderBy?: string;
  limit?: number;
  member?: string;
  score?: string;
  /** false: a list (or array) compared as a set, its order not reproduced by any guess. */
  ordered?: false;
}

export interface FamilyProposal {
  name: string;
  pattern: string;
  type: 'string' | 'hash' | 'list' | 'set' | 'zset';
  many?: ManyProposal;
  /** A counter's allowed lag (`tolerance: 2`). */
  tolerance?: number;
  codec?: CodecName;
  source: string;
  load: LoadSpec;
  key: string;
  fields: string[];
  version?: string;
  updatedAt?: string;
  ttl: string;
  normalize: Record<string, string>;
  redact: string[];
  negativeMarker?: string;
  /** Comment lines per property, each starting with `guess:` or `review:`. */
  notes: Partial<Record<NoteKey, string[]>>;
  keyCount: number;
}

export interface FamilyEvidence {
  pattern: InferredPattern;
  analysis: PayloadAnalysis;
  chosen: ProbeOutcome;
  /** Other tables that fit exactly as well. */
  alike: readonly ProbeOutcome[];
  /** Rows of the chosen table for the sampled ids (all columns), by id. */
  rows: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** The column types of those rows, when the source tells them. */
  columns?: ColumnTypes;
  /** Keys the scan saw in total, for the family's note. */
  scanned: number;
}

export type ProposalResult = { family: FamilyProposal } | { skipped: string };

/** For the raw codec: the column whose values equal the whole cached values. */
function rawColumn(e: FamilyEvidence, table: TableInfo): { column: string; equal: number; compared: number } | undefined {
  let best: { column: string; equal: number; compared: number } | undefined;
  for (const column of table.columns) {
    let equal = 0;
    let compared = 0;
    for (const [id, bytes] of e.analysis.texts) {
      const row = e.rows.get(id);
      if (row === undefined) continue;
      compared++;
      if (valuesEqual(bytes.toString('utf8'), row[column.name])) equal++;
    }
    if (best === undefined || equal > best.equal) best = { column: column.name, equal, compared };
  }
  return best !== undefined && best.equal * 2 > best.compared ? best : undefined;
}

function typeNotes(a: PayloadAnalysis): string[] {
  const others = [...a.typeCounts].filter(([t]) => t !== a.type).map(([t, n]) => `${n} ${t}`);
  const tail = others.length > 0 ? `; the other samples: ${others.join(', ')} (an audit skips or errors on those)` : '';
  return [`guess: ${a.ofType} of ${a.sampled} sampled keys are ${a.type === 'hash' ? 'hashes' : 'strings'}${tail}`];
}

function codecNote(a: PayloadAnalysis, codec: CodecName): string {
  const what = codec === 'raw' ? 'are plain values (no codec decodes most of them)' : `decode as ${codec} objects`;
  const n = codec === 'raw' ? a.ofType : a.decodedCount;
  return `guess: ${n} of ${a.ofType} sampled values ${what}`;
}

export function proposeFamily(e: FamilyEvidence): ProposalResult {
  const { analysis: a, chosen } = e;
  const table = chosen.candidate.table;
  const keyColumn = chosen.candidate.column;
  if (a.type === undefined) return { skipped: 'no sampled key is a string or a hash' };
  const notes: FamilyProposal['notes'] = {};
  let codec: CodecName | undefined = a.type === 'string' ? a.codec : undefined;
  let mapping = mapFieldsToColumns(
    a.fields.map((f) => f.name),
    table.columns.map((c) => c.name),
  );
  let fields: string[];
  let versionField: string | undefined;
  if (a.type === 'string' && codec === undefined) {
    const raw = rawColumn(e, table);
    if (raw === undefined) return { skipped: `the values decode with no codec, and no column of ${qualifiedName(table)} equals them` };
    codec = 'raw';
    mapping = new Map();
    fields = [raw.column];
    notes.fields = [`guess: the whole value equals column ${raw.column} in ${raw.equal} of ${raw.compared} sampled rows`];
  } else {
    const version = pickVersion(table, { mapping, keyColumn });
    if (version !== undefined && 'field' in version) {
      versionField = version.field;
      notes.version = [`guess: integer column ${version.column}, named like a version and held by the cached values too`];
    } else if (version !== undefined) {
      notes.fields = [`review: ${version.note}`];
    }
    fields = comparedFields({ mapping, keyColumn }, versionField);
    if (fields.length === 0) return { skipped: `no cached field is a column of ${qualifiedName(table)} (other than the key)` };
    const left = a.fields.map((f) => f.name).filter((f) => !mapping.has(f));
    const fieldNotes = [`guess: the cached fields that are columns of ${qualifiedName(table)}, except the key${versionField === undefined ? '' : ' and the version'}`];
    if (left.length > 0) fieldNotes.push(`review: cached fields with no column, not compared: ${left.join(', ')}`);
    notes.fields = [...fieldNotes, ...(notes.fields ?? [])];
  }

  // The key as the rows carry it: under the cached field's name when the cache holds it renamed.
  const keyField = [...mapping].find(([, column]) => column === keyColumn)?.[0];
  const key = keyField ?? keyColumn;
  const updated = pickUpdatedAt(table);
  const renamed = [...mapping].some(([field, column]) => field !== column && (field === key || fields.includes(field) || field === versionField));
  let select: SelectColumn[] | undefined;
  if (renamed) {
    const alias = (field: string) => ({ column: mapping.get(field) as string, alias: field });
    select = [{ column: keyColumn, alias: key }, ...fields.map(alias)];
    if (versionField !== undefined) select.push(alias(versionField));
    // The rule names the change-time column as the rows carry it: selected under its own name too.
    if (updated !== undefined && !select.some((s) => s.column === updated.name && (s.alias ?? s.column) === s.column)) select.push({ column: updated.name });
  }
  const load = loadSpec(table, keyColumn, select);
  const ttl = proposeTtl(a.pttls);

  const pairs = [...(a.payloads as Map<string, Record<string, unknown>>)].flatMap(([id, cache]) => {
    const row = e.rows.get(id);
    if (row === undefined) return [];
    return [{ cache, row: Object.fromEntries(fields.map((f) => [f, row[mapping.get(f) ?? f]])), columns: e.columns === undefined ? {} : columnsByField(e.columns, fields, mapping) }];
  });
  const normalize: Record<string, string> = {};
  const normalizeNotes: string[] = [];
  for (const n of codec === 'raw' ? [] : inferNormalizers(pairs, fields)) {
    normalize[n.field] = n.normalizer;
    normalizeNotes.push(`guess: ${n.field} differs in ${n.differing} of ${n.compared} sampled rows; ${n.normalizer} removes ${n.fixed} of those differences`);
  }
  if (normalizeNotes.length > 0) notes.normalize = normalizeNotes;
  const redact = personalFields(fields);
  if (redact.length > 0) notes.redact = ['guess: named like personal data; masked in every report'];

  let negativeMarker: string | undefined;
  const marker = a.type === 'string' && codec !== 'raw' ? markerCandidate(a) : undefined;
  if (marker !== undefined) {
    const absent = marker.ids.filter((id) => !e.rows.has(id)).length;
    if (marker.ids.length >= 2 || absent >= 1) {
      negativeMarker = marker.text;
      notes.negativeMarker = [`guess: ${marker.ids.length} sampled keys hold this instead of ${codec}; ${absent} of their rows do not exist`];
    }
  }

  const example = e.pattern.keys[0] as string;
  notes.family = [`review: ${e.pattern.keys.length} of ${e.scanned} scanned keys, like ${example}`];
  notes.pattern = [`guess: the {${placeholderName(key)}} part varies across ${new Set(e.pattern.ids).size} keys${e.pattern.byPosition ? ' (by position only: its values do not look like ids)' : ''}`];
  notes.type = a.type === 'hash' ? typeNotes(a) : [...typeNotes(a), codecNote(a, codec as CodecName)];
  const sourceNotes = [
    `guess: ${chosen.found} of ${chosen.probed} probed ids exist in ${qualifiedName(table)} (source ${table.source}), matched by ${chosen.candidate.nameScore > 0 ? 'name' : 'column names'}`,
  ];
  if (e.alike.length > 0) sourceNotes.push(`review: fits exactly as well: ${e.alike.map((o) => `${qualifiedName(o.candidate.table)} (${o.candidate.table.source})`).join(', ')}`);
  notes.source = sourceNotes;
  notes.key = [`guess: ${keyColumn} is ${chosen.candidate.why}${key !== keyColumn ? `; selected as ${key}, the cached name` : ''}`];
  const unique = (table.primaryKey.length === 1 && table.primaryKey[0] === keyColumn) || table.uniqueColumns.includes(keyColumn);
  if (!unique) {
    const primary = table.primaryKey.length > 1 ? `; the primary key is (${table.primaryKey.join(', ')}): a key pattern needs a placeholder per column, like t:{a}:u:{b} with key: [a, b]` : '';
    notes.key.push(`review: ${keyColumn} is neither the primary key nor unique; an id with several rows is judged error/source-error${primary}`);
  }
  if (updated !== undefined) notes.updatedAt = [`guess: ${updated.dataType} column named like a change time`];
  else notes.updatedAt = ['review: no timestamp column named like a change time: stale entries are judged by the TTL alone'];
  notes.ttl = [describeTtl(ttl), 'review: maxStaleness (the freshness budget) is left to its default, the ttl; set it to what the application promises'];

  const family: FamilyProposal = {
    name: familyName(e.pattern),
    pattern: patternText(e.pattern, placeholderName(key)),
    type: a.type,
    source: table.source,
    load,
    key,
    fields,
    ttl: formatDuration(ttl.ttlMs),
    normalize,
    redact,
    notes,
    keyCount: e.pattern.keys.length,
  };
  if (codec !== undefined) family.codec = codec;
  if (versionField !== undefined) family.version = versionField;
  if (updated !== undefined) family.updatedAt = updated.name;
  if (negativeMarker !== undefined) family.negativeMarker = negativeMarker;
  return { family };
}

/** The column types under the names the cache uses (a renamed field takes its column's type). */
function columnsByField(columns: ColumnTypes, fields: readonly string[], mapping: ReadonlyMap<string, string>): Record<string, ColumnType> {
  const out: Record<string, ColumnType> = {};
  for (const f of fields) {
    const type = columns[mapping.get(f) ?? f];
    if (type !== undefined) out[f] = type;
  }
  return out;
}
