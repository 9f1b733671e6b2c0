import { createCacheReader } from '../cache/index.js';
import { displayKey, hasKeyEscape, keyMatchText, parseDisplayedKey } from '../cache/key-name.js';
import type { TlsOptions } from '../cache/tls.js';
import type { CacheReader } from '../cache/types.js';
import type { RulesConfig } from '../config/types.js';
import { CachedFieldSample } from '../core/cached-fields.js';
import { classifyObservation } from '../core/classify.js';
import { MEMBERS_FIELD } from '../core/codec-collection.js';
import { decodeCacheValue } from '../core/codecs.js';
import { elementRedact } from '../core/diff.js';
import { displayValue } from '../core/display.js';
import { LIKELY_CAUSE } from '../core/hints.js';
import { setField } from '../core/json-text.js';
import { normalizeField } from '../core/normalize.js';
import type { CacheRead, Observation, SourceRead } from '../core/observation.js';
import { isNegativeMarker, observationsOf, replicaLagAllowanceMs, sourceReadOf, type SourceOutcome } from '../core/observe.js';
import { isRedactedPath, redactValue } from '../core/redaction.js';
import type { FamilyRule } from '../core/rule.js';
import { transformationHint, transformationNotes } from '../core/systematic.js';
import { REDACTED, type Judgement } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import { createSourceLoader } from '../sources/index.js';
import { SourceQueryError, type SourceLoader } from '../sources/types.js';
import { checkFamiliesAgainstSources } from './rules-check.js';

export interface ExplainRequest {
  config: RulesConfig;
  redisUrl: string;
  readFrom?: 'master' | 'replica';
  tls?: TlsOptions;
  /** Keys as reports display them (key-name.ts): `\xNN` is one byte, `\x5c` a backslash. */
  keys: readonly string[];
  timeoutMs: number;
  maxValueBytes: number;
}

/**
 * An argument with `\xNN` escapes reads the key those bytes make; when the key spelled literally
 * by the argument's text exists too, both are named, so nobody reads one while meaning the other.
 */
export interface OtherKey {
  /** The argument as typed. */
  literal: string;
  /** How to address the literal text key: its display, each backslash written `\x5c`. */
  display: string;
}

/** Everything `explain` shows for one key. `key` is the key's display (key-name.ts). */
export type Explanation =
  | { key: string; otherKey?: OtherKey; family: undefined; patterns: string[] }
  | {
      key: string;
      otherKey?: OtherKey;
      family: FamilyRule;
      id: string;
      read: CacheRead;
      estimatedWriteMs?: number;
      /** The database's clock when Redis answered (core/observe.ts alignedNowMs). */
      nowMs: number;
      /** Replication lag allowed for (Redis replica + source replica), ms; absent when reading primaries. */
      replicaLagMs?: number;
      cachePayload?: unknown;
      decodeError?: string;
      source: SourceRead;
      sourcePayload?: unknown;
      judgement: Judgement;
      steps: string[];
      hint?: string;
      /** Fields that differ only in form (case, date vs timestamp...) beside fields that differ in value. */
      notes?: string[];
      /** What the rules check (rules-check.ts) found about the family and this key's value. */
      warnings: RunWarning[];
    };

/** Reads each key and its row once, read-only, and judges it with every decision step recorded. */
export async function explainKeys(request: ExplainRequest): Promise<Explanation[]> {
  let cache: CacheReader | undefined;
  const loaders = new Map<string, SourceLoader>();
  try {
    cache = await createCacheReader(request.redisUrl, {
      timeoutMs: request.timeoutMs,
      ...(request.readFrom === undefined ? {} : { readFrom: request.readFrom }),
      ...(request.tls === undefined ? {} : { tls: request.tls }),
    });
    const out: Explanation[] = [];
    // The checks an audit runs before its first batch, once per family explained.
    const familyWarnings = new Map<string, RunWarning[]>();
    for (const argument of request.keys) {
      const raw = parseDisplayedKey(argument);
      const key = displayKey(raw);
      const otherKey = await literalKeyBeside(cache, argument, raw);
      const text = keyMatchText(raw);
      const family = request.config.families.find((f) => f.pattern.match(text) !== undefined);
      if (family === undefined) {
        out.push({ key, ...otherKey, family: undefined, patterns: request.config.families.map((f) => `${f.name}: ${f.pattern.source}`) });
        continue;
      }
      let loader = loaders.get(family.source);
      if (loader === undefined) {
        const spec = request.config.sources[family.source];
        if (spec === undefined) throw new Error(`unknown source "${family.source}"`);
        loader = await createSourceLoader(spec, { timeoutMs: request.timeoutMs, maxConnections: 1, tlsInsecure: request.tls?.insecure === true });
        loaders.set(family.source, loader);
      }
      let warnings = familyWarnings.get(family.name);
      if (warnings === undefined) {
        warnings = await checkFamiliesAgainstSources(request.config, [family], loaders);
        familyWarnings.set(family.name, warnings);
      }
      out.push({ ...(await explainOne(raw, family, cache, loader, request.maxValueBytes, warnings)), ...otherKey });
    }
    return out;
  } finally {
    await Promise.allSettled([cache?.close(), ...[...loaders.values()].map((l) => l.close())]);
  }
}

/** The text key an escaped argument spells literally, when it exists beside the key it reads. */
async function literalKeyBeside(cache: CacheReader, argument: string, raw: Buffer): Promise<{ otherKey?: OtherKey }> {
  if (!hasKeyEscape(argument)) return {};
  const literal = Buffer.from(argument, 'utf8');
  if (literal.equals(raw)) return {};
  // A size limit of 0 fetches no value: a string comes back too-large (or present when empty), another type present.
  const [read] = await cache.read([literal], 'string', 0);
  if (read === undefined || read.kind === 'gone' || read.kind === 'error') return {};
  return { otherKey: { literal: argument, display: displayKey(literal) } };
}

async function explainOne(
  raw: Buffer,
  family: FamilyRule,
  cache: CacheReader,
  loader: SourceLoader,
  maxValueBytes: number,
  familyWarnings: readonly RunWarning[],
): Promise<Explanation> {
  const key = displayKey(raw);
  const id = family.pattern.match(keyMatchText(raw)) as string;
  const lag = await replicaLag(cache, loader);
  const [read = { kind: 'gone' } as CacheRead] = await cache.read([raw], family.type, maxValueBytes);
  const cacheReadAtMs = Date.now();
  // The row is loaded even when the verdict does not need it (a vanished key), to be shown;
  // observationsOf leaves it out of the observation exactly as the audit does.
  let outcome: SourceOutcome;
  let source: SourceRead;
  const loadStartedAtMs = Date.now();
  try {
    const answer = await loader.load(family, [id]);
    outcome = { kind: 'answered', answer, loadStartedAtMs };
    source = sourceReadOf(answer, family, id);
  } catch (error) {
    if (!(error instanceof SourceQueryError)) throw error;
    outcome = { kind: 'failed', message: error.message, timeout: error.timeout };
    source = { kind: 'error', message: error.message, timeout: error.timeout };
  }
  const [obs] = observationsOf(family, { keys: [{ key, id }], reads: [read], cacheReadAtMs, source: outcome, replicaLagMs: lag.ms }) as [Observation];
  const nowMs = obs.nowMs;
  const steps: string[] = [];
  const judgement = classifyObservation(family, obs, steps);

  const cachedFields = new CachedFieldSample(family, 1);
  cachedFields.offer(read);
  const warnings = [...familyWarnings, ...cachedFields.warnings()];
  const explanation: Explanation = { key, family, id, read, nowMs, source, judgement, steps, warnings };
  if (lag.ms > 0) explanation.replicaLagMs = lag.ms;
  if (read.kind === 'present' && read.pttlMs >= 0) explanation.estimatedWriteMs = nowMs - (family.ttlMs - read.pttlMs);
  if (read.kind === 'present' && isNegativeMarker(family, read.value)) {
    explanation.cachePayload = `(the negative marker ${JSON.stringify(family.negativeMarker)})`;
  } else if (read.kind === 'present' && read.redisType === family.type) {
    const decoded = decodeCacheValue(family, read.value);
    if (decoded.ok) explanation.cachePayload = shownPayload(family, decoded.payload);
    else explanation.decodeError = decoded.error;
  }
  if (source.kind === 'row') explanation.sourcePayload = shownPayload(family, source.row);
  if (judgement.reason !== undefined) explanation.hint = LIKELY_CAUSE[judgement.reason];
  const notes = lag.note === undefined ? [] : [lag.note];
  if (judgement.verdict === 'divergent' || judgement.verdict === 'within-ttl') {
    // A difference of form only (the same day as ISO timestamp and date, another case...) is a
    // rules or normalization problem whatever reason the verdict carries: never blame a race for it.
    const form = transformationHint(judgement.diff);
    if (form !== undefined) explanation.hint = form;
    else notes.push(...transformationNotes(judgement.diff));
  }
  if (notes.length > 0) explanation.notes = notes;
  return explanation;
}

/**
 * The replication lag an audit would allow for this key (core/observe.ts replicaLagAllowanceMs),
 * measured now. A side that cannot tell (INFO refused) counts as no lag, as in the audit.
 */
async function replicaLag(cache: CacheReader, loader: SourceLoader): Promise<{ ms: number; note?: string }> {
  try {
    return { ms: replicaLagAllowanceMs(await cache.replicaLagMs?.(), await loader.replicaLagMs?.()) };
  } catch (error) {
    return { ms: 0, note: `cannot read replication lag (${error instanceof Error ? error.message : String(error)}): time comparisons use clockSkew alone` };
  }
}

/**
 * A payload as explain shows it: normalized as the rule compares it, then masked by the same
 * redaction as every report (redaction.ts), nested paths included.
 */
export function shownPayload(family: FamilyRule, payload: Readonly<Record<string, unknown>>): unknown {
  if (family.many !== undefined) return { [MEMBERS_FIELD]: shownMembers({ ...family, many: family.many }, payload[MEMBERS_FIELD]) };
  return shownDocument(family, payload);
}

function shownDocument(family: FamilyRule, payload: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(payload)) {
    setField(out, field, displayValue(redactValue(family.redact, field, normalizeField(family, field, value))));
  }
  return out;
}

/**
 * The elements of a `rows: many` payload (cached elements or source rows): `fields`, `normalize`
 * and `redact` name each element's fields, so each element is shown as a document of its own; a
 * raw element is the member column's value (masked when that column is redacted).
 */
function shownMembers(family: FamilyRule & { many: NonNullable<FamilyRule['many']> }, elements: unknown): unknown {
  if (!Array.isArray(elements)) return displayValue(elements);
  if (family.redact.includes(MEMBERS_FIELD) || family.redact.includes(`${MEMBERS_FIELD}[]`)) return REDACTED;
  const redact = elementRedact(family.redact);
  if (redact !== family.redact) family = { ...family, redact };
  const member = family.many.member;
  const scalar = (value: unknown): unknown => {
    if (member === undefined) return displayValue(value);
    return displayValue(redactValue(family.redact, member, normalizeField(family, member, value)));
  };
  const element = (value: unknown): unknown =>
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array)
      ? shownDocument(family, value as Record<string, unknown>)
      : scalar(value);
  return (elements as unknown[]).map((value) => {
    // A ZSET member as decoded: { member, score }, the score as Redis spells it.
    if (family.type === 'zset' && typeof value === 'object' && value !== null && 'score' in value && 'member' in value) {
      const { member: m, score } = value as { member: unknown; score: unknown };
      const hidden = family.many.score !== undefined && isRedactedPath(family.redact, family.many.score);
      return { member: element(m), score: hidden ? REDACTED : displayValue(score) };
    }
    return element(value);
  });
}
