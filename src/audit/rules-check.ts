/**
 * The rules checked against the live sources and cache before anything is judged. One place, used
 * by `audit` (session.ts), `rules validate --connect` and `explain`, so the three never disagree.
 */
import { createCacheReader } from '../cache/index.js';
import { displayKey, keyMatchText } from '../cache/key-name.js';
import type { TlsOptions } from '../cache/tls.js';
import type { CacheReader } from '../cache/types.js';
import type { RulesConfig } from '../config/types.js';
import { CachedFieldSample } from '../core/cached-fields.js';
import type { ColumnTypes } from '../core/column-type.js';
import type { FamilyRule } from '../core/rule.js';
import type { RunWarning } from '../core/warning.js';
import { RulesError, type RulesProblem } from '../errors.js';
import { createSourceLoader } from '../sources/index.js';
import { ReadOnlyQueryError } from '../sources/read-only-query.js';
import { checkFamilyColumns } from '../sources/collection-columns.js';
import type { SourceLoader } from '../sources/types.js';
import { writeAccessMessage } from '../sources/write-access.js';

/**
 * Runs each family's zero-row check on its source (a query that fails throws SourceCheckError, exit
 * 2), then checks every name of the rules against the result columns (result-columns.ts). The
 * naming problems of every family end in one RulesError (exit 2) naming file:line. A family whose
 * loader declares no columns (a module) cannot be checked by name: it gets a warning instead.
 */
export async function checkFamiliesAgainstSources(
  config: Pick<RulesConfig, 'file' | 'locate'>,
  families: readonly FamilyRule[],
  loaders: ReadonlyMap<string, SourceLoader>,
): Promise<RunWarning[]> {
  const problems: RulesProblem[] = [];
  const warnings: RunWarning[] = [];
  for (const rule of families) {
    const loader = loaders.get(rule.source);
    if (loader === undefined) throw new Error(`no loader for source "${rule.source}"`);
    let result: ColumnTypes | void;
    try {
      result = await loader.check?.(rule);
    } catch (error) {
      // A query the read-only policy refuses is a rules problem at the query's line; the other
      // families are still checked so that every refused query is listed at once.
      if (!(error instanceof ReadOnlyQueryError)) throw error;
      const where = config.locate?.(rule.name, error.path, 'value') ?? { file: config.file, family: rule.name };
      problems.push({ ...where, family: rule.name, message: `${error.problem}; ${error.hint ?? ''}`.replace(/; $/, '') });
      continue;
    }
    if (typeof result !== 'object' || result === null) {
      const why = loader.check === undefined ? 'its loader has no check()' : "its loader's check() returns no result columns";
      warnings.push({
        kind: 'rules',
        family: rule.name,
        message: `the names in the rules ("fields", "exclude", "normalize", "key", "version", "updatedAt") were not checked against source "${rule.source}": ${why}`,
      });
      continue;
    }
    for (const problem of checkFamilyColumns(rule, result)) {
      const where = config.locate?.(rule.name, problem.path, problem.on) ?? { file: config.file, family: rule.name };
      problems.push({ ...where, message: problem.message });
    }
  }
  if (problems.length > 0) throw new RulesError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)));
  return warnings;
}

/**
 * A warning for each source whose role could write (write-access.ts), on the first family that
 * reads it: shadowcheck never writes, and a read-only role is what makes the database keep that.
 */
export async function sourceRoleWarnings(families: readonly FamilyRule[], loaders: ReadonlyMap<string, SourceLoader>): Promise<RunWarning[]> {
  const warnings: RunWarning[] = [];
  const seen = new Set<string>();
  for (const rule of families) {
    if (seen.has(rule.source)) continue;
    seen.add(rule.source);
    const what = await loaders.get(rule.source)?.writeAccess?.();
    if (what !== undefined) warnings.push({ kind: 'rules', family: rule.name, message: writeAccessMessage(rule.source, what) });
  }
  return warnings;
}

/** SCAN replies looked at per family, at most, when sampling outside an audit: bounds the cost on a big keyspace. */
const MAX_SCAN_REPLIES = 50;

/**
 * `rules validate --connect`: SCANs a few keys of each family (a bounded scan, not the audit's
 * sampler), reads them and reports the compared fields none of them holds (core/cached-fields.ts).
 * The audit looks at its first batches' values instead (run-audit.ts), so that it reads no key
 * twice and a Cluster scan cut short never makes its coverage incomplete.
 */
export async function sampleCachedFields(
  cache: CacheReader,
  families: readonly FamilyRule[],
  maxValueBytes: number,
): Promise<{ warnings: RunWarning[]; sampled: Map<string, number> }> {
  const warnings: RunWarning[] = [];
  // A family that expects no field by name (no `fields`, no `normalize`) has nothing to look for: no entry.
  const sampled = new Map<string, number>();
  for (const rule of families) {
    const sample = new CachedFieldSample(rule);
    if (sample.full) continue;
    // SCAN may return a key twice: keep each once.
    const keys = new Map<string, Buffer>();
    let replies = 0;
    for await (const reply of cache.scan(rule.pattern.glob, 100)) {
      for (const raw of reply) {
        const key = displayKey(raw);
        if (keys.size < sample.limit && rule.pattern.match(keyMatchText(raw)) !== undefined) keys.set(key, raw);
      }
      if (keys.size >= sample.limit || ++replies >= MAX_SCAN_REPLIES) break;
    }
    if (keys.size > 0) for (const read of await cache.read([...keys.values()], rule.type, maxValueBytes)) sample.offer(read);
    sampled.set(rule.name, sample.count);
    warnings.push(...sample.warnings());
  }
  return { warnings, sampled };
}

export interface LiveCheckRequest {
  config: RulesConfig;
  redisUrl: string;
  readFrom?: 'master' | 'replica';
  tls?: TlsOptions;
  timeoutMs: number;
  maxValueBytes: number;
}

/**
 * `rules validate --connect`: connects as the audit does (exit 3 when Redis or a source is down),
 * runs the checks the audit runs before its first batch, and judges nothing. Throws RulesError or
 * SourceCheckError (exit 2) on a problem; returns the warnings, how many cached values each
 * family's fields were checked against, and what each source's role could write (`roles`).
 */
export async function checkRulesLive(request: LiveCheckRequest): Promise<{ warnings: RunWarning[]; sampled: Map<string, number>; roles: string[] }> {
  const { config } = request;
  let cache: CacheReader | undefined;
  const loaders = new Map<string, SourceLoader>();
  try {
    cache = await createCacheReader(request.redisUrl, {
      timeoutMs: request.timeoutMs,
      ...(request.readFrom === undefined ? {} : { readFrom: request.readFrom }),
      ...(request.tls === undefined ? {} : { tls: request.tls }),
    });
    for (const name of new Set(config.families.map((f) => f.source))) {
      const spec = config.sources[name];
      if (spec === undefined) throw new Error(`unknown source "${name}" after validation`);
      loaders.set(name, await createSourceLoader(spec, { timeoutMs: request.timeoutMs, maxConnections: 1, tlsInsecure: request.tls?.insecure === true }));
    }
    const warnings = await checkFamiliesAgainstSources(config, config.families, loaders);
    const roles = (await sourceRoleWarnings(config.families, loaders)).map((w) => w.message);
    const cached = await sampleCachedFields(cache, config.families, request.maxValueBytes);
    return { warnings: [...warnings, ...cached.warnings], sampled: cached.sampled, roles };
  } finally {
    await Promise.allSettled([cache?.close(), ...[...loaders.values()].map((l) => l.close())]);
  }
}
