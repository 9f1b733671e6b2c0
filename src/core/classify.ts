import { decodeCacheValue } from './codecs.js';
import { compareVersions } from './compare.js';
import { MEMBERS_FIELD } from './codec-collection.js';
import { comparePayloads } from './diff.js';
import { normalizeValue } from './normalize.js';
import type { Observation } from './observation.js';
import { isNegativeMarker } from './observe.js';
import type { FamilyRule } from './rule.js';
import { toleranceText } from './tolerance.js';
import type { FieldDiff, Judgement, Reason, Verdict } from './verdict.js';

/**
 * Judges one observation against its rule, following SEMANTICS.md's "Decision order" step by step:
 * the first step that decides wins. Pure: no I/O, no clock but the database's `nowMs`.
 *
 * `trace`, when given, receives one line per step evaluated, with its numbers (`explain` prints it).
 */
export function classifyObservation(rule: FamilyRule, obs: Observation, trace?: string[]): Judgement {
  const { cache, source } = obs;
  const note = trace === undefined ? undefined : (line: string) => trace.push(line);

  // Step 1: things that cannot be judged because there is nothing (or nothing suitable) to judge.
  if (cache.kind === 'gone' || (cache.kind === 'present' && cache.pttlMs === -2)) {
    note?.('1. key gone at read time');
    return decided('skipped', 'vanished', 1);
  }
  if ((cache.kind === 'present' || cache.kind === 'too-large') && cache.redisType !== rule.type) {
    note?.(`1. Redis type is ${cache.redisType}, the rule expects ${rule.type}`);
    return decided('skipped', 'wrong-type', 1, { detail: `Redis type ${cache.redisType}, expected ${rule.type}` });
  }
  if (cache.kind === 'too-large') {
    note?.(`1. value is ${cache.size} ${cache.unit}, over the size limit: not fetched`);
    return decided('skipped', 'too-large', 1, { detail: `${cache.size} ${cache.unit}, over the size limit` });
  }
  note?.('1. key present, type and size fit the rule');

  // Step 2: decode, and surface read failures on either side.
  let payload: Record<string, unknown> | undefined;
  let holdsMarker = false;
  if (cache.kind === 'present') {
    holdsMarker = isNegativeMarker(rule, cache.value);
    if (!holdsMarker) {
      const decoded = decodeCacheValue(rule, cache.value);
      if (!decoded.ok) {
        note?.(`2. value does not decode as ${rule.type === 'hash' ? 'hash' : rule.codec}: ${decoded.error}`);
        return decided('error', 'undecodable', 2, { pttlMs: cache.pttlMs, detail: decoded.error });
      }
      payload = decoded.payload;
    }
  }
  if (source.kind === 'error') {
    note?.(`2. source loader failed: ${source.message}`);
    return decided('error', source.timeout ? 'timeout' : 'source-error', 2, { detail: source.message });
  }
  if (cache.kind === 'error') {
    note?.(`2. cache read failed: ${cache.message}`);
    return decided('error', 'cache-error', 2, { detail: cache.message });
  }
  note?.(holdsMarker ? '2. value is the negative marker (not decoded)' : rule.many === undefined ? '2. value decoded, source row loaded' : '2. elements decoded, source rows loaded');

  const pttlMs = cache.pttlMs;
  const ttl = rule.ttlMs;
  // Reading replicas: what they show may be this much older, so time comparisons allow for it.
  const skew = rule.clockSkewMs + (obs.replicaLagMs ?? 0);
  if (obs.replicaLagMs !== undefined && obs.replicaLagMs > 0) {
    note?.(`   replicas read up to ${obs.replicaLagMs} ms behind: time comparisons allow clockSkew ${rule.clockSkewMs} ms + lag = skew ${skew} ms`);
  }

  // Step 3: the source has no row (for `rows: many`: no rows at all).
  const many = rule.many !== undefined;
  if (source.kind === 'absent') {
    if (holdsMarker) {
      note?.('3. row absent and the cache holds the negative marker');
      return decided('match', undefined, 3, { pttlMs });
    }
    // An empty cached collection (only a string can hold `[]`) says "no rows" as a marker would.
    const cachedMembers = many && payload !== undefined ? payload[MEMBERS_FIELD] : undefined;
    if (Array.isArray(cachedMembers) && cachedMembers.length === 0) {
      note?.('3. no source rows and the cache holds an empty collection');
      return decided('match', undefined, 3, { pttlMs });
    }
    const expiresInTime = pttlMs >= 0 && pttlMs <= ttl + skew;
    const bounded = expiresInTime && ttl <= rule.maxStalenessMs;
    note?.(
      `3. ${many ? 'no source rows; the cache holds a non-empty collection (orphaned)' : 'row absent'}; ` +
        (pttlMs === -1 ? 'no expiry' : `pttl ${pttlMs} ms ${expiresInTime ? '<=' : '>'} ttl + skew ${ttl + skew} ms`) +
        `; ttl ${ttl} ms ${ttl <= rule.maxStalenessMs ? '<=' : '>'} maxStaleness ${rule.maxStalenessMs} ms`,
    );
    const diff = [{ path: '*', cache: '(cached value)', source: many ? '(no rows)' : '(no row)' }];
    return bounded
      ? decided('within-ttl', 'ttl-bounded-assumed', 3, { pttlMs, diff })
      : decided('divergent', 'orphan', 3, { pttlMs, diff });
  }

  const row = source.row;
  let diff: FieldDiff[];
  // Whether the rows' updatedAt can date the difference (diff.ts comparePayloads).
  let changeTimeKnown = true;
  let cacheVersion: unknown;
  let sourceVersion: unknown;
  if (payload === undefined) {
    // A negative marker while the row exists: a difference with no cache version, judged from step 6.
    note?.('3. row exists but the cache holds the negative marker: stale, no cache version');
    diff = [{ path: '*', cache: rule.negativeMarker, source: '(row exists)' }];
    sourceVersion = rule.version === undefined ? undefined : row[rule.version];
  } else {
    const memberRows = many ? row[MEMBERS_FIELD] : undefined;
    note?.(many ? `3. ${Array.isArray(memberRows) ? memberRows.length : 0} source row(s) for the key` : '3. row present');
    try {
      ({ diff, changeTimeKnown } = comparePayloads(rule, payload, row, source.columns));
    } catch (error) {
      // JSON.parse accepts any depth, but comparing a value nested thousands deep overflows the
      // stack: such a value cannot be judged, and one hostile key must not end the audit.
      if (!(error instanceof RangeError)) throw error;
      note?.('2. value nested too deeply to compare');
      return decided('error', 'undecodable', 2, { pttlMs, detail: 'value nested too deeply to compare' });
    }
    let order: -1 | 0 | 1 | undefined;
    if (rule.version !== undefined) {
      cacheVersion = payload[rule.version];
      sourceVersion = row[rule.version];
      order = compareVersions(cacheVersion, sourceVersion);
      if (order !== undefined && order !== 0 && !diff.some((d) => d.path === rule.version)) {
        diff.push({ path: rule.version, cache: cacheVersion, source: sourceVersion });
      }
    }
    const versions = { cacheVersion, sourceVersion };

    // Step 4: equal after normalization, versions agreeing (or not both known).
    if (diff.length === 0) {
      note?.(`4. compared fields equal${order === 0 ? ', versions equal' : ''}${toleranceNote(rule)}`);
      return decided('match', undefined, 4, { pttlMs, ...versions });
    }
    note?.(`4. ${diff.length} difference(s): ${diff.map((d) => (d.change === undefined ? d.path : `${d.path}: ${d.change}`)).join(', ')}`);

    // Step 5: versions say who is ahead.
    if (order === 1) {
      note?.(`5. cache version ${String(cacheVersion)} > source version ${String(sourceVersion)}`);
      return decided('divergent', 'cache-ahead', 5, { pttlMs, diff, ...versions });
    }
    if (order === 0) {
      note?.(`5. versions equal (${String(cacheVersion)}) but payloads differ`);
      return decided('divergent', 'payload-drift', 5, { pttlMs, diff, ...versions });
    }
    note?.(
      order === undefined ? '5. no comparable versions' : `5. cache version ${String(cacheVersion)} < source ${String(sourceVersion)}`,
    );
  }

  const stale = { pttlMs, diff, cacheVersion, sourceVersion };
  const updatedAtMs = changeTimeKnown ? changeTimeOf(rule, row) : undefined;
  const staleAgeMs = updatedAtMs === undefined ? undefined : Math.max(0, obs.nowMs - updatedAtMs);

  // Step 6: the entry's expiry cannot bound the staleness.
  if (pttlMs === -1) {
    note?.('6. no expiry (PTTL -1): will never heal');
    return decided('divergent', 'no-ttl', 6, { ...stale, staleAgeMs });
  }
  if (pttlMs > ttl + skew) {
    note?.(`6. pttl ${pttlMs} ms > ttl ${ttl} ms + skew ${skew} ms`);
    return decided('divergent', 'ttl-exceeds-declared', 6, { ...stale, staleAgeMs });
  }
  note?.(`6. pttl ${pttlMs} ms <= ttl + skew ${ttl + skew} ms`);

  // Step 7: the source's change time is known.
  if (updatedAtMs !== undefined) {
    const writtenAtMs = obs.nowMs - (ttl - pttlMs);
    // With TTL T the entry would expire at writtenAt + T: within budget while T <= this.
    const ttlAdviceMs = Math.max(0, rule.maxStalenessMs + (updatedAtMs - writtenAtMs));
    if (writtenAtMs > updatedAtMs + skew) {
      note?.(
        `7. estimated write ${iso(writtenAtMs)} is after the ${many ? 'latest row change' : 'row changed'} at ${iso(updatedAtMs)} + skew: ` +
          'the cache was repopulated with an older value',
      );
      return decided('divergent', 'stale-repopulated', 7, { ...stale, staleAgeMs, ttlAdviceMs });
    }
    const windowMs = obs.nowMs + pttlMs - updatedAtMs;
    const fits = windowMs <= rule.maxStalenessMs;
    note?.(
      `7. estimated write ${iso(writtenAtMs)} <= change ${iso(updatedAtMs)} + skew; ` +
        `stale window ${windowMs} ms ${fits ? '<=' : '>'} maxStaleness ${rule.maxStalenessMs} ms`,
    );
    return fits
      ? decided('within-ttl', 'ttl-bounded', 7, { ...stale, staleAgeMs, ttlAdviceMs })
      : decided('divergent', 'stale-beyond-budget', 7, { ...stale, staleAgeMs, ttlAdviceMs });
  }

  // Step 8: change time unknown: rely on the declared TTL fitting the budget.
  const assumed = ttl <= rule.maxStalenessMs;
  const why = rule.updatedAt === undefined ? '' : !changeTimeKnown ? (many ? ' (a cached member left the source: when is not recorded)' : ' (a child differs: the parent\'s updatedAt does not date it)') : '';
  note?.(`8. change time unknown${why}; ttl ${ttl} ms ${assumed ? '<=' : '>'} maxStaleness ${rule.maxStalenessMs} ms`);
  return assumed
    ? decided('within-ttl', 'ttl-bounded-assumed', 8, stale)
    : decided('divergent', 'stale-beyond-budget', 8, stale);
}

/**
 * Step 9 applies only to a first judgement of `divergent`, and only when re-reading is enabled
 * (a delay of 0 disables it): every other verdict is final on the first read.
 */
export function awaitsConfirmation(judgement: Judgement, confirmDelayMs: number): boolean {
  return judgement.verdict === 'divergent' && confirmDelayMs > 0;
}

/**
 * Step 9: the confirmation re-read. A key first judged divergent that matches on the second read
 * was caught mid-write (`converged`); one that still differs is judged on the second observation.
 * A re-read that could not be judged (error) leaves the first, fully observed, judgement standing.
 */
export function confirmJudgement(first: Judgement, second: Judgement): Judgement {
  if (first.verdict !== 'divergent') return first;
  if (second.verdict === 'match') {
    return { ...first, verdict: 'within-ttl', reason: 'converged', step: 9, pttlMs: second.pttlMs ?? first.pttlMs };
  }
  if (second.verdict === 'error') return first;
  return second;
}

function decided(
  verdict: Verdict,
  reason: Reason | undefined,
  step: number,
  extra: Partial<Omit<Judgement, 'verdict' | 'reason' | 'step'>> = {},
): Judgement {
  const judgement: Judgement = { verdict, step, diff: extra.diff ?? [] };
  if (reason !== undefined) judgement.reason = reason;
  if (extra.pttlMs !== undefined) judgement.pttlMs = extra.pttlMs;
  if (extra.cacheVersion !== undefined) judgement.cacheVersion = extra.cacheVersion;
  if (extra.sourceVersion !== undefined) judgement.sourceVersion = extra.sourceVersion;
  if (extra.staleAgeMs !== undefined) judgement.staleAgeMs = extra.staleAgeMs;
  if (extra.ttlAdviceMs !== undefined) judgement.ttlAdviceMs = extra.ttlAdviceMs;
  if (extra.detail !== undefined) judgement.detail = extra.detail;
  return judgement;
}

/** `, numbers within tolerance (likes: 2, *: 1%)`: a match may hide a lag this large. */
function toleranceNote(rule: FamilyRule): string {
  if (rule.tolerance === undefined) return '';
  return `, numbers within tolerance (${Object.entries(rule.tolerance).map(([field, t]) => `${field}: ${toleranceText(t)}`).join(', ')})`;
}

/**
 * When the source last changed: the row's `updatedAt`, or for `rows: many` the latest of its rows'
 * (unknown when one of them has none: that row's change is not dated).
 */
function changeTimeOf(rule: FamilyRule, row: Readonly<Record<string, unknown>>): number | undefined {
  const column = rule.updatedAt;
  if (column === undefined) return undefined;
  if (rule.many === undefined) return toEpochMs(row[column]);
  const rows = row[MEMBERS_FIELD];
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  let latest = -Infinity;
  for (const member of rows as readonly Readonly<Record<string, unknown>>[]) {
    const ms = toEpochMs(member[column]);
    if (ms === undefined) return undefined;
    latest = Math.max(latest, ms);
  }
  return latest;
}

function toEpochMs(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = normalizeValue({ name: 'timestamp' }, value);
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
