/**
 * Proposals for keys that hold many rows: a LIST or SET of ids, a ZSET of member → score, a string
 * holding a JSON array of objects. The table comes from the key's name (collection-target.ts), the
 * member, score, order and limit from the rows of the sampled ids; every guess carries its note,
 * and a shape no table explains is left out with the reason.
 */
import { Buffer } from 'node:buffer';
import type { ScoredMember } from '../core/observation.js';
import { qualifiedName, type TableInfo } from './catalog.js';
import { elementShape, elementTexts, elementFields, jsonArrayOfObjects } from './collection-shapes.js';
import { collectionTables, valueMatchedTables, guessOrder, memberAgreement, memberColumns, scoreAgreement, scoreColumns, type TableChoice } from './collection-target.js';
import { pickUpdatedAt } from './columns.js';
import { loadSpec } from './load-spec.js';
import { mapFieldsToColumns, placeholderName } from './names.js';
import { familyName, patternText, type InferredPattern } from './patterns.js';
import type { ValueSample } from './payloads.js';
import type { SourceRows } from './probe.js';
import type { FamilyProposal, ManyProposal, ProposalResult } from './proposal.js';
import { pickSample } from './sample.js';
import { describeTtl, formatDuration, proposeTtl } from './ttl.js';

type Row = Readonly<Record<string, unknown>>;
type CollectionType = 'list' | 'set' | 'zset';

/** Column categories that can hold a key's id, by the id's shape (as candidates.ts matches them). */
const ID_CATEGORIES: Record<InferredPattern['shape'], readonly string[]> = {
  digits: ['integer'],
  uuid: ['uuid', 'text'],
  alnum: ['text'],
  name: ['text'],
};

/** Sampled keys whose rows are loaded per candidate table. */
const PROBE_KEYS = 100;
/** A guess is taken when it explains at least this share of the sampled keys that have rows. */
const MIN_SHARE = 0.8;

export interface CollectionContext {
  pattern: InferredPattern;
  samples: readonly ValueSample[];
  tables: readonly TableInfo[];
  sources: SourceRows;
  scanned: number;
}

/** The Redis type most samples have, when it is a collection. */
export function collectionTypeOf(samples: readonly ValueSample[]): CollectionType | undefined {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.redisType, (counts.get(s.redisType) ?? 0) + 1);
  const [top] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
  return top === 'list' || top === 'set' || top === 'zset' ? top : undefined;
}

/** The sampled strings' JSON arrays by id, when most strings hold one. */
export function jsonArrays(samples: readonly ValueSample[]): Map<string, Record<string, unknown>[]> | undefined {
  const strings = samples.filter((s) => s.redisType === 'string' && Buffer.isBuffer(s.value));
  const arrays = new Map<string, Record<string, unknown>[]>();
  for (const s of strings) {
    const array = jsonArrayOfObjects(s.value as Buffer);
    if (array !== undefined) arrays.set(s.id, array);
  }
  return strings.length > 0 && arrays.size * 2 > strings.length ? arrays : undefined;
}

async function rowsOf(ctx: CollectionContext, choice: TableChoice, ids: readonly string[]): Promise<Map<string, Row[]> | undefined> {
  const result = await ctx.sources.probe({ source: choice.table.source, load: loadSpec(choice.table, choice.key, undefined), key: choice.key, many: true }, ids);
  if (result.error !== undefined) return undefined;
  const rows = new Map<string, Row[]>();
  for (const [id, row] of result.rows) rows.set(id, (row['members'] as Row[] | undefined) ?? []);
  return rows;
}

function share(n: number, of: number): string {
  return `${n} of ${of}`;
}

/** The parts every many-rows proposal shares: name, pattern, source, key, change time, TTL. */
function baseProposal(ctx: CollectionContext, choice: TableChoice, type: FamilyProposal['type'], typeNote: string, pttls: readonly number[]): FamilyProposal {
  const ttl = proposeTtl(pttls);
  const updated = pickUpdatedAt(choice.table);
  const example = ctx.pattern.keys[0] as string;
  const family: FamilyProposal = {
    name: familyName(ctx.pattern),
    pattern: patternText(ctx.pattern, placeholderName(choice.key)),
    type,
    source: choice.table.source,
    load: loadSpec(choice.table, choice.key, undefined),
    key: choice.key,
    fields: [],
    ttl: formatDuration(ttl.ttlMs),
    normalize: {},
    redact: [],
    notes: {
      family: [`review: ${ctx.pattern.keys.length} of ${ctx.scanned} scanned keys, like ${example}: each holds many rows (rows: many)`],
      pattern: [`guess: the {${placeholderName(choice.key)}} part varies across ${new Set(ctx.pattern.ids).size} keys`],
      type: [typeNote],
      source: [`guess: ${qualifiedName(choice.table)} (source ${choice.table.source}), ${choice.why}`],
      key: [`guess: a key's rows are those whose ${choice.key} is the captured id`],
      ttl: [describeTtl(ttl), 'review: maxStaleness (the freshness budget) is left to its default, the ttl; set it to what the application promises'],
    },
    keyCount: ctx.pattern.keys.length,
  };
  if (updated !== undefined) {
    family.updatedAt = updated.name;
    family.notes.updatedAt = [`guess: ${updated.dataType} column named like a change time; a collection's change time is its rows' latest`];
  } else {
    family.notes.updatedAt = ['review: no timestamp column named like a change time: stale collections are judged by the TTL alone'];
  }
  return family;
}

/** The order and limit of a list (or JSON array) as `many` settings, with their notes. */
function orderSettings(family: FamilyProposal, guess: ReturnType<typeof guessOrder>, many: ManyProposal): void {
  if (guess.limit !== undefined) many.limit = guess.limit;
  if (guess.orderBy !== undefined && guess.reproduced >= MIN_SHARE * guess.compared) {
    many.orderBy = guess.orderBy;
    family.notes.orderBy = [`guess: this order${guess.limit === undefined ? ' reproduces' : ` and limit ${guess.limit} reproduce`} ${share(guess.reproduced, guess.compared)} sampled keys' elements exactly`];
    if (guess.alike.length > 0) {
      family.notes.orderBy.push(`review: these orders fit almost as well: ${guess.alike.join(', ')}; the samples barely tell them apart, and a wrong order hides a stale order: write the one the application uses`);
    }
  } else {
    many.ordered = false;
    family.notes.orderBy = [
      `review: no order tried (time columns newest first, the member either way) reproduces most cached orders (at best ${share(guess.reproduced, guess.compared)}): compared as a set; write the application's orderBy and remove "ordered: false"`,
    ];
  }
  if (guess.limit !== undefined) family.notes.orderBy.push(`guess: limit ${guess.limit}: no key holds more elements, and every key with more rows holds exactly that many`);
}

/** A 4-byte float column (PostgreSQL real, MySQL float): its scores are compared as reals. */
function isRealColumn(table: TableInfo, column: string): boolean {
  const type = table.columns.find((c) => c.name === column)?.dataType ?? '';
  return /^(real|float4|float)\b/i.test(type);
}

/** A LIST or SET of ids, or a ZSET of member → score. */
export async function proposeCollection(ctx: CollectionContext, type: CollectionType): Promise<ProposalResult> {
  const ofType = ctx.samples.filter((s) => s.redisType === type && Array.isArray(s.value));
  const cached = new Map<string, string[]>();
  const scored = new Map<string, { member: string; score: string }[]>();
  for (const s of ofType) {
    const members = type === 'zset' ? (s.value as readonly ScoredMember[]).map((m) => m.member) : (s.value as readonly Buffer[]);
    const texts = elementTexts(members);
    if (texts === undefined) continue;
    cached.set(s.id, texts);
    if (type === 'zset') scored.set(s.id, (s.value as readonly ScoredMember[]).map((m, i) => ({ member: texts[i] as string, score: m.score })));
  }
  const shape = elementShape([...cached.values()].flat());
  if (shape === undefined) return { skipped: `the sampled ${type}s hold no text elements` };
  const named = collectionTables(ctx.pattern.parts, [], ctx.tables);
  const choices = named.length > 0 ? named : valueMatchedTables(ctx.tables, ID_CATEGORIES[ctx.pattern.shape]);
  if (choices.length === 0) return { skipped: `no table is named like the key's parts with a column named after the part before the id (like user_id for user:{id}:orders)` };
  const ids = pickSample([...cached.keys()], PROBE_KEYS);
  const tried: string[] = [];
  const scoreMisses: string[] = [];
  for (const choice of choices) {
    const rows = await rowsOf(ctx, choice, ids);
    if (rows === undefined) continue;
    const sampled = new Map([...cached].filter(([id]) => ids.includes(id)));
    const sampledScores = new Map([...scored].filter(([id]) => ids.includes(id)));
    for (const member of memberColumns(choice.table, choice.key, shape)) {
      const agreement = memberAgreement(sampled, rows, member);
      // A column of a table with no rows for the sampled ids (0/0) says nothing: not listed.
      if (agreement.keys > 0) tried.push(`${qualifiedName(choice.table)}.${member} ${agreement.contained}/${agreement.keys}`);
      if (agreement.keys === 0 || agreement.contained < MIN_SHARE * agreement.keys) continue;
      const typeNote = `guess: ${share(ofType.length, ctx.samples.length)} sampled keys are ${type}s of ${shape === 'text' ? 'text' : `${shape}s`}`;
      const family = baseProposal(ctx, choice, type, typeNote, ofType.map((s) => s.pttlMs ?? -2).filter((p) => p >= -1));
      if (named.length === 0) family.notes.source = [`review: ${qualifiedName(choice.table)} (source ${choice.table.source}), ${choice.why}`];
      const many: ManyProposal = { member };
      family.notes.member = [`guess: every element of ${share(agreement.contained, agreement.keys)} sampled keys is the ${member} of one of its rows (${agreement.equal} hold all of them)`];
      if (type === 'zset') {
        const scores = scoreColumns(choice.table, choice.key, member)
          .map((c) => ({ c, n: scoreAgreement(sampledScores, rows, member, c, isRealColumn(choice.table, c)) }))
          .sort((a, b) => b.n - a.n);
        const best = scores[0];
        if (best === undefined || best.n < MIN_SHARE * agreement.keys) {
          const columns = scores.map((x) => `${x.c} ${x.n}/${agreement.keys}`).join(', ') || 'none is numeric';
          scoreMisses.push(`${qualifiedName(choice.table)} (member ${member}; score columns: ${columns})`);
          continue;
        }
        many.score = best.c;
        family.notes.score = [`guess: every score of ${share(best.n, agreement.keys)} sampled keys equals ${best.c} of its member's row`];
        if (agreement.equal < agreement.keys) {
          const guess = guessOrder(sampled, rows, choice.table, member);
          if (guess.limit !== undefined) {
            // A limit picks the first rows of an order: the highest scores, the usual board.
            many.orderBy = `${best.c} DESC, ${member}`;
            many.limit = guess.limit;
            family.notes.orderBy = [`review: limit ${guess.limit}: keys hold at most that many members while some have more rows; the order that picks them is a guess (the highest scores); write the application's`];
          }
        }
      } else if (type === 'list') {
        orderSettings(family, guessOrder(sampled, rows, choice.table, member), many);
      } else if (agreement.equal < MIN_SHARE * agreement.keys) {
        family.notes.member.push(`review: only ${agreement.equal} sampled sets hold all their rows; a set kept to a subset needs a query that selects that subset`);
      }
      family.many = many;
      family.notes.rows = ['review: one key holds many rows, compared as a collection by member'];
      return { family };
    }
  }
  if (scoreMisses.length > 0) {
    return { skipped: `the members are found, but no numeric column equals most sampled scores (compared as doubles): ${scoreMisses.join('; ')}` };
  }
  const candidates = tried.length > 0 ? tried.join(', ') : `no candidate table has rows for the sampled ids: ${choices.map((c) => `${qualifiedName(c.table)}.${c.key}`).join(', ')}`;
  return { skipped: `no column of the candidate tables holds the sampled ${type}s' elements (${candidates})` };
}

/** A string holding a JSON array of objects: many rows, each element compared field by field. */
export async function proposeJsonArray(ctx: CollectionContext, arrays: ReadonlyMap<string, Record<string, unknown>[]>): Promise<ProposalResult> {
  const fields = elementFields(arrays.values()).map((f) => f.name);
  const choices = collectionTables(ctx.pattern.parts, fields, ctx.tables);
  if (choices.length === 0) return { skipped: 'the values are JSON arrays, and no table has both their fields and a column named after the part before the id' };
  const ids = pickSample([...arrays.keys()], PROBE_KEYS);
  for (const choice of choices) {
    const rows = await rowsOf(ctx, choice, ids);
    if (rows === undefined) continue;
    const columns = choice.table.columns.map((c) => c.name);
    const mapping = mapFieldsToColumns(fields, columns);
    // Renamed fields would need a query with aliases; an element compared under other names is not proposed.
    const same = [...mapping].filter(([f, c]) => f === c).map(([f]) => f);
    const identity = choice.table.primaryKey.length === 1 ? choice.table.primaryKey[0] : undefined;
    if (identity === undefined || !same.includes(identity)) continue;
    const sampled = new Map([...arrays].filter(([id]) => ids.includes(id)).map(([id, array]) => [id, array.map((e) => String(e[identity]))]));
    const agreement = memberAgreement(sampled, rows, identity);
    if (agreement.keys === 0 || agreement.contained < MIN_SHARE * agreement.keys) continue;
    const pttls = ctx.samples.filter((s) => arrays.has(s.id)).map((s) => s.pttlMs ?? -2).filter((p) => p >= -1);
    const family = baseProposal(ctx, choice, 'string', `guess: ${share(arrays.size, ctx.samples.length)} sampled keys are strings holding a JSON array of objects`, pttls);
    family.codec = 'json';
    family.fields = same;
    family.notes.fields = [`guess: the elements' fields that are columns of ${qualifiedName(choice.table)}, compared in each element`];
    const left = fields.filter((f) => !same.includes(f));
    if (left.length > 0) family.notes.fields.push(`review: element fields with no column of that name, not compared: ${left.join(', ')}`);
    const many: ManyProposal = { member: identity };
    family.notes.member = [`guess: the elements' ${identity} is ${qualifiedName(choice.table)}'s primary key: elements are matched by it (${share(agreement.contained, agreement.keys)} sampled arrays hold only existing rows)`];
    orderSettings(family, guessOrder(sampled, rows, choice.table, identity), many);
    family.many = many;
    family.notes.rows = ['review: one key holds many rows, compared as a collection by member'];
    return { family };
  }
  return { skipped: `the values are JSON arrays, and no candidate table (${choices.map((c) => qualifiedName(c.table)).join(', ')}) has rows with their ids for most sampled keys` };
}
