/**
 * The proposal as a commented YAML rules file, built with the `yaml` package's Document API:
 * every guess is a comment on the node it explains (`# guess: ...`, `# review: ...`).
 */
import { Document, Scalar, isMap, isScalar, isSeq, type Pair, type YAMLMap } from 'yaml';
import type { SourceKindName } from './catalog.js';
import type { FamilyProposal, NoteKey } from './proposal.js';

export interface SourceEntry {
  name: string;
  kind: SourceKindName;
  /** As the file writes it (see source-args.ts fileUrl). */
  url: string;
  notes: string[];
}

export interface ProposalDocument {
  /** For the `# yaml-language-server: $schema=` line. */
  schemaPath: string;
  header: string[];
  sources: SourceEntry[];
  families: FamilyProposal[];
  footer: string[];
}

/** A comment line cannot hold a line break or other control characters. */
export function commentSafe(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029 ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }
  return out;
}

function commentLines(lines: readonly string[]): string {
  return lines.map((l) => ` ${commentSafe(l)}`).join('\n');
}

function familyData(f: FamilyProposal): Record<string, unknown> {
  const data: Record<string, unknown> = { name: f.name, pattern: f.pattern };
  if (f.type !== 'string') data['type'] = f.type;
  // A collection's elements are raw by default; a string's codec is always written.
  if (f.codec !== undefined && f.type !== 'hash' && (f.type === 'string' || f.codec !== 'raw')) data['codec'] = f.codec;
  data['source'] = f.source;
  if ('table' in f.load) data['table'] = f.load.table;
  else data['query'] = f.load.query;
  data['key'] = f.key;
  if (f.many !== undefined) {
    data['rows'] = 'many';
    if (f.many.orderBy !== undefined) data['orderBy'] = f.many.orderBy;
    if (f.many.limit !== undefined) data['limit'] = f.many.limit;
    if (f.many.ordered === false) data['ordered'] = false;
    if (f.many.member !== undefined) data['member'] = f.many.member;
    if (f.many.score !== undefined) data['score'] = f.many.score;
  }
  // Raw elements are the member column itself: nothing else to list.
  if (f.fields.length > 0) data['fields'] = f.fields;
  if (f.version !== undefined) data['version'] = f.version;
  if (f.updatedAt !== undefined) data['updatedAt'] = f.updatedAt;
  if (f.tolerance !== undefined) data['tolerance'] = f.tolerance;
  data['ttl'] = f.ttl;
  if (Object.keys(f.normalize).length > 0) data['normalize'] = f.normalize;
  if (f.redact.length > 0) data['redact'] = f.redact;
  if (f.negativeMarker !== undefined) data['negativeMarker'] = f.negativeMarker;
  return data;
}

/** Which property carries the notes of each kind. */
const NOTE_TARGETS: Record<Exclude<NoteKey, 'family'>, readonly string[]> = {
  pattern: ['pattern'],
  type: ['type', 'codec'],
  source: ['source'],
  load: ['table', 'query'],
  key: ['key'],
  rows: ['rows'],
  orderBy: ['orderBy', 'ordered'],
  member: ['member'],
  score: ['score'],
  fields: ['fields'],
  tolerance: ['tolerance'],
  version: ['version'],
  updatedAt: ['updatedAt', 'ttl'],
  ttl: ['ttl'],
  normalize: ['normalize'],
  redact: ['redact'],
  negativeMarker: ['negativeMarker'],
};

function pairOf(map: YAMLMap, name: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === name);
}

function addBefore(pair: Pair, lines: readonly string[]): void {
  if (lines.length === 0 || !isScalar(pair.key)) return;
  const text = commentLines(lines);
  pair.key.commentBefore = pair.key.commentBefore ? `${pair.key.commentBefore}\n${text}` : text;
}

function quote(pair: Pair | undefined, type: Scalar.Type): void {
  if (pair !== undefined && isScalar(pair.value)) pair.value.type = type;
}

function styleFamily(map: YAMLMap, f: FamilyProposal): void {
  for (const [kind, targets] of Object.entries(NOTE_TARGETS) as [Exclude<NoteKey, 'family'>, readonly string[]][]) {
    const lines = f.notes[kind];
    if (lines === undefined) continue;
    const pair = targets.map((t) => pairOf(map, t)).find((p) => p !== undefined);
    if (pair !== undefined) addBefore(pair, lines);
  }
  quote(pairOf(map, 'pattern'), Scalar.QUOTE_DOUBLE);
  quote(pairOf(map, 'negativeMarker'), Scalar.QUOTE_DOUBLE);
  quote(pairOf(map, 'query'), Scalar.BLOCK_LITERAL);
  for (const name of ['fields', 'redact', 'normalize']) {
    const value = pairOf(map, name)?.value;
    if (isSeq(value) || isMap(value)) value.flow = true;
  }
}

export function renderProposal(p: ProposalDocument): string {
  const data = {
    version: 1,
    sources: Object.fromEntries(p.sources.map((s) => [s.name, { kind: s.kind, url: s.url }])),
    families: p.families.map(familyData),
  };
  const doc = new Document(data);
  doc.commentBefore = commentLines([`yaml-language-server: $schema=${p.schemaPath}`, ...p.header]);
  const sources = doc.get('sources');
  if (isMap(sources)) {
    for (const s of p.sources) {
      const pair = pairOf(sources, s.name);
      const entry = pair?.value;
      if (pair !== undefined) addBefore(pair, s.notes);
      if (isMap(entry)) quote(pairOf(entry, 'url'), Scalar.QUOTE_DOUBLE);
    }
  }
  const families = doc.get('families');
  if (isSeq(families)) {
    families.items.forEach((item, i) => {
      const f = p.families[i];
      if (!isMap(item) || f === undefined) return;
      styleFamily(item, f);
      if (f.notes.family !== undefined) item.commentBefore = commentLines(f.notes.family);
      if (i > 0) item.spaceBefore = true;
    });
  }
  if (p.footer.length > 0) doc.comment = commentLines(p.footer);
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return text.endsWith('\n') ? text : `${text}\n`;
}
