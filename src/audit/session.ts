import { createCacheReader } from '../cache/index.js';
import type { TlsOptions } from '../cache/tls.js';
import type { CacheReader } from '../cache/types.js';
import type { RulesConfig } from '../config/types.js';
import { errorRatio, evaluateGate, type GateOptions } from '../core/gate.js';
import { Baseline } from './baseline.js';
import { SILENT_LOG, type AuditLog, type AuditProgress } from './log.js';
import { MetricsPushError, type MetricsRecorder } from '../metrics/index.js';
import type { FamilyRule } from '../core/rule.js';
import { shardMeta } from '../core/shard.js';
import { SystematicTally } from '../core/systematic.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import { ExitCode, ShadowcheckError, UsageError } from '../errors.js';
import { createReporter, type ReporterName } from '../report/index.js';
import type { RunSummary } from '../report/types.js';
import { createSourceLoader } from '../sources/index.js';
import type { SourceLoader } from '../sources/types.js';
import { openOutput, planOutput, type OutputPlan, type OutputSink } from '../util/output-file.js';
import { VERSION } from '../version.js';
import { checkFamiliesAgainstSources, sourceRoleWarnings } from './rules-check.js';
import { runAudit, type AuditOptions } from './run-audit.js';

export interface AuditRequest {
  config: RulesConfig;
  redisUrl: string;
  /** Read from masters (default) or replicas (Cluster, Sentinel). */
  readFrom?: 'master' | 'replica';
  /** CA, client certificate, --insecure: for Redis, and --insecure for the sources. */
  tls?: TlsOptions;
  /** Limit the audit to these families; all when empty. */
  familyNames: readonly string[];
  audit: AuditOptions;
  timeoutMs: number;
  format: ReporterName;
  /** Write the report here instead of stdout (atomically: a temp file renamed at the end). */
  outputFile?: string;
  gate: GateOptions;
  /** A previous JSON report whose divergences do not fail the gate. */
  baselineFile?: string;
  /** Pushes the run's metrics to a Pushgateway once, at the end. */
  metrics?: { recorder: MetricsRecorder; required: boolean };
  color: boolean;
  signal?: AbortSignal;
  /** Sees every finding too (the demo checks its planted verdicts with it). */
  onFinding?(finding: Finding): void;
  log?: AuditLog;
  progress?: AuditProgress;
}

/**
 * One audit from connection to exit code: connects to Redis and the sources (exit 3 when one is
 * down), checks every family's query before reading a key, runs the pipeline, reports, gates.
 */
export async function performAudit(request: AuditRequest): Promise<number> {
  const families = selectFamilies(request.config, request.familyNames);
  // Decided (and proved writable) before anything is read; see util/output-file.ts.
  const output = request.outputFile === undefined ? undefined : await planOutput(request.outputFile);
  const baseline = request.baselineFile === undefined ? undefined : await Baseline.load(request.baselineFile);
  if (request.audit.recentMs !== undefined) {
    for (const f of families.filter((family) => family.table === undefined || family.updatedAt === undefined)) {
      process.stderr.write(`shadowcheck: --recent skips family "${f.name}": it needs \`table\` and \`updatedAt\` to find recently changed rows\n`);
    }
  }
  const startedAt = new Date();
  const resources: { cache?: CacheReader; loaders: Map<string, SourceLoader> } = { loaders: new Map() };
  try {
    const log = request.log ?? SILENT_LOG;
    resources.cache = await createCacheReader(request.redisUrl, {
      timeoutMs: request.timeoutMs,
      ...(request.readFrom === undefined ? {} : { readFrom: request.readFrom }),
      ...(request.tls === undefined ? {} : { tls: request.tls }),
    });
    log.info({ redis: resources.cache.target }, 'connected to Redis');
    for (const name of new Set(families.map((f) => f.source))) {
      const spec = request.config.sources[name];
      if (spec === undefined) throw new UsageError(`unknown source "${name}"`);
      const loader = await createSourceLoader(spec, {
        timeoutMs: request.timeoutMs,
        maxConnections: request.audit.concurrency * 2,
        tlsInsecure: request.tls?.insecure === true,
        log,
      });
      resources.loaders.set(name, loader);
      log.info({ source: name, kind: spec.kind }, 'source ready');
    }
    // Every family's query runs (LIMIT 0) and every name of the rules is a result column before any key is read.
    const rulesWarnings = await checkFamiliesAgainstSources(request.config, families, resources.loaders);
    // A role that could write is said once per source on stderr, not in the report: it is about
    // how the tool is set up, not about the cache, and it must not change a report's findings.
    for (const warning of await sourceRoleWarnings(families, resources.loaders)) log.warn({ family: warning.family }, warning.message);

    return await auditAndReport(request, families, resources.cache, resources.loaders, startedAt, baseline, rulesWarnings, output);
  } finally {
    await Promise.allSettled([resources.cache?.close(), ...[...resources.loaders.values()].map((l) => l.close())]);
  }
}

async function auditAndReport(
  request: AuditRequest,
  families: readonly FamilyRule[],
  cache: CacheReader,
  loaders: ReadonlyMap<string, SourceLoader>,
  startedAt: Date,
  baseline: Baseline | undefined,
  rulesWarnings: readonly RunWarning[],
  output: OutputPlan | undefined,
): Promise<number> {
  let knownDivergent = 0;
  let knownRecentDivergent = 0;
  // Systematic differences are concluded over the sample (not --recent, which may judge its keys twice).
  const systematic = new SystematicTally();
  const sink: OutputSink | undefined = output === undefined ? undefined : await openOutput(output);
  const out = sink?.out ?? process.stdout;
  // A write that fails (full disk, a closed pipe) ends the run with a clear message, not a crash.
  const reportTo = request.outputFile ?? 'stdout';
  const cannotWrite = (error: unknown) =>
    new ShadowcheckError(`cannot write the report to ${reportTo}: ${error instanceof Error ? error.message : String(error)}`, ExitCode.connection, { cause: error });
  // Undefined when the reporter wrote synchronously: run-audit.ts then awaits nothing for the
  // finding (a promise per key was most of the audit's garbage).
  const writing = (work: void | Promise<void> | undefined): Promise<void> | undefined => {
    if (!(work instanceof Promise)) return undefined;
    return work.catch((error: unknown) => {
      throw cannotWrite(error);
    });
  };
  try {
    const reporter = createReporter(request.format, {
      out,
      color: request.color && request.outputFile === undefined,
      maxFindings: 100_000,
    });
    const log = request.log ?? SILENT_LOG;
    const progress = request.progress;
    if (progress !== undefined) {
      // With --shard, this process judges about 1/N of the keyspace.
      const perFamily = request.audit.sample === 'all' ? Math.ceil((await cache.size()) / (request.audit.shard?.count ?? 1)) : request.audit.sample;
      progress.start(perFamily * (request.audit.sample === 'all' ? 1 : families.length));
    }
    const inputs = {
      log,
      families,
      allFamilies: request.config.families,
      cache,
      loaders,
      onFinding: (finding: Finding) => {
        if (finding.verdict === 'divergent' && baseline?.has(finding.key, finding.reason) === true) {
          if (finding.population === 'recent') knownRecentDivergent++;
          else knownDivergent++;
        }
        if (finding.population === undefined) systematic.add(finding);
        request.metrics?.recorder.observe(finding);
        progress?.tick(finding);
        request.onFinding?.(finding);
        return writing(reporter.onFinding?.(finding));
      },
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    };
    let outcome;
    try {
      outcome = await runAudit(inputs, request.audit);
    } finally {
      progress?.stop();
    }

    // A Cluster scan that did not list every slot judged only part of the keyspace.
    const coverage = cache.coverage?.();
    if (coverage !== undefined && !coverage.complete && !outcome.incomplete) {
      outcome.incomplete = true;
      outcome.abortReason = `the scan did not list slots ${coverage.missing ?? '(unknown)'}`;
    }
    const summary = outcome.total.counters();
    const familyCounters = families.map((f) => ({ name: f.name, ...(outcome.families.get(f.name)?.counters() ?? summary) }));
    for (const f of familyCounters) {
      if (f.sampled === 0 && !outcome.incomplete) log.warn({ family: f.name }, 'no key matched the family pattern: check --redis, its logical database, and the pattern');
    }
    // Rules warnings first: a field no cached value holds explains a systematic difference on it.
    const warnings = [...rulesWarnings, ...outcome.warnings, ...systematic.warnings()];
    const gate = evaluateGate(
      {
        summary,
        incomplete: outcome.incomplete,
        warnings,
        sourceFailures: outcome.sourceFailures,
        families: families.map((f, i) => ({
          name: f.name,
          counters: familyCounters[i] ?? summary,
          ...(f.minConsistency === undefined ? {} : { minConsistency: f.minConsistency }),
        })),
        ...(baseline === undefined ? {} : { baseline: { file: baseline.file, knownDivergent } }),
        ...(outcome.recent === undefined ? {} : { recent: { counters: outcome.recent.total.counters(), knownDivergent: knownRecentDivergent } }),
      },
      request.gate,
    );
    const run: RunSummary = {
      version: VERSION,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      target: { redis: cache.target },
      summary,
      families: familyCounters,
      gate: { passed: gate.passed, failures: gate.failures, ...(gate.baseline === undefined ? {} : { baseline: gate.baseline }) },
      incomplete: outcome.incomplete,
      ...(outcome.sourceFailures.length === 0 ? {} : { sourceFailures: outcome.sourceFailures }),
      ...(warnings.length === 0 ? {} : { warnings }),
      ...(request.audit.shard === undefined ? {} : { shard: shardMeta(request.audit.shard, request.config.families) }),
    };
    if (outcome.replicaLagMs !== undefined) run.replicaLagMs = outcome.replicaLagMs;
    if (coverage !== undefined) run.coverage = coverage;
    if (outcome.recent !== undefined) {
      const recent = outcome.recent;
      run.recent = {
        withinMs: recent.withinMs,
        summary: recent.total.counters(),
        families: [...recent.families].map(([name, tally]) => ({ name, ...tally.counters() })),
      };
    }
    if (outcome.abortReason !== undefined) run.abortReason = outcome.abortReason;
    await writing(reporter.onEnd?.(run));
    const pushFailed = await pushMetrics(request.metrics, run);

    await sink?.commit();
    if (outcome.incomplete) {
      process.stderr.write(`shadowcheck: audit incomplete: ${outcome.abortReason ?? 'stopped'}; the report covers the keys judged so far\n`);
      if (request.signal?.aborted === true) return request.signal.reason === 'SIGTERM' ? 143 : 130;
      return ExitCode.connection;
    }
    if (pushFailed) return ExitCode.connection;
    if (gate.tooManyErrors) {
      process.stderr.write(
        `shadowcheck: ${summary.error} of ${summary.sampled} keys could not be judged ` +
          `(${percent(errorRatio(summary))} > --max-error-ratio ${percent(request.gate.maxErrorRatio)})\n`,
      );
      return ExitCode.tooManyErrors;
    }
    return gate.passed ? ExitCode.ok : ExitCode.gateFailed;
  } finally {
    // After a commit there is nothing left to drop; after a failure, the temporary file goes.
    await sink?.discard();
  }
}

/**
 * Pushes once. A failed push is reported on stderr and leaves the audit's exit code alone, unless
 * --require-push: then the run exits 3. Returns whether a required push failed.
 */
async function pushMetrics(metrics: AuditRequest['metrics'], run: RunSummary): Promise<boolean> {
  if (metrics === undefined) return false;
  try {
    await metrics.recorder.push(run);
    return false;
  } catch (error) {
    if (!(error instanceof MetricsPushError)) throw error;
    process.stderr.write(`shadowcheck: ${error.message}\n${error.hint === undefined ? '' : `  hint: ${error.hint}\n`}`);
    return metrics.required;
  }
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}

function selectFamilies(config: RulesConfig, names: readonly string[]): FamilyRule[] {
  if (names.length === 0) return [...config.families];
  const known = new Map(config.families.map((f) => [f.name, f]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `--family ${unknown.map((n) => `"${n}"`).join(', ')}: no such family in ${config.file}; ` +
        `families are: ${[...known.keys()].join(', ')}`,
    );
  }
  return config.families.filter((f) => names.includes(f.name));
}
