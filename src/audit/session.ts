import { createCacheReader } from '../cache/index.js';
import type { TlsOptions } from '../cache/tls.js';
import type { CacheReader } from '../cache/types.js';
import type { RulesConfig } from '../config/types.js';
import { concludeRun, settleExitCode } from '../core/conclude.js';
import type { GateOptions } from '../core/gate.js';
import { Baseline } from './baseline.js';
import { SILENT_LOG, type AuditLog, type AuditProgress } from './log.js';
import type { MetricsRecorder } from '../metrics/index.js';
import type { FamilyRule } from '../core/rule.js';
import { shardMeta } from '../core/shard.js';
import type { Finding } from '../core/verdict.js';
import type { RunWarning } from '../core/warning.js';
import { UsageError } from '../errors.js';
import { createReporter, type ReporterName } from '../report/index.js';
import { openReportOutput } from '../report/report-output.js';
import { createSourceLoader } from '../sources/index.js';
import type { SourceLoader } from '../sources/types.js';
import { planOutput, type OutputPlan } from '../util/output-file.js';
import { VERSION } from '../version.js';
import { checkFamiliesAgainstSources, sourceRoleWarnings } from './rules-check.js';
import { runAudit, type AuditOptions } from './run-audit.js';
import { baselineSink, metricsSink, progressSink, reporterSink, RunSinks, systematicSink, type RunSink } from './run-sinks.js';

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
  /** More consumers of the findings and the run (the demo's planted-verdict check), after the built-in ones. */
  sinks?: readonly RunSink[];
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
  checkUntilConfident(request, families);
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
  outputPlan: OutputPlan | undefined,
): Promise<number> {
  const output = await openReportOutput(outputPlan);
  try {
    const reporter = createReporter(request.format, {
      out: output.out,
      color: request.color && request.outputFile === undefined,
      maxFindings: 100_000,
    });
    const log = request.log ?? SILENT_LOG;
    const systematic = systematicSink();
    const known = baseline === undefined ? undefined : baselineSink(baseline);
    const metrics = request.metrics === undefined ? undefined : metricsSink(request.metrics);
    // The reporter first: the run's end writes the report before the metrics push (which may wait on its timeout).
    const sinks = new RunSinks([
      reporterSink(reporter, (error) => output.wrapError(error)),
      ...(known === undefined ? [] : [known]),
      systematic,
      ...(metrics === undefined ? [] : [metrics]),
      ...(request.progress === undefined ? [] : [progressSink(request.progress)]),
      ...(request.sinks ?? []),
    ]);
    if (request.progress !== undefined) {
      // With --shard, this process judges about 1/N of the keyspace.
      const perFamily = request.audit.sample === 'all' ? Math.ceil((await cache.size()) / (request.audit.shard?.count ?? 1)) : request.audit.sample;
      sinks.start(perFamily * (request.audit.sample === 'all' ? 1 : families.length));
    }
    const inputs = {
      log,
      families,
      allFamilies: request.config.families,
      cache,
      loaders,
      onFinding: (finding: Finding) => sinks.finding(finding),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    };
    let outcome;
    try {
      outcome = await runAudit(inputs, request.audit);
    } finally {
      sinks.judgingEnded();
    }

    // A Cluster scan that did not list every slot judged only part of the keyspace.
    const coverage = cache.coverage?.();
    if (coverage !== undefined && !coverage.complete && !outcome.incomplete) {
      outcome.incomplete = true;
      outcome.abortReason = `the scan did not list slots ${coverage.missing ?? '(unknown)'}`;
    }
    const summary = outcome.total.counters();
    const familyCounters = families.map((f) => {
      const sampling = outcome.sampling.get(f.name);
      return { name: f.name, ...(outcome.families.get(f.name)?.counters() ?? summary), ...(sampling === undefined ? {} : { sampling }) };
    });
    for (const f of familyCounters) {
      if (f.sampled === 0 && !outcome.incomplete) log.warn({ family: f.name }, 'no key matched the family pattern: check --redis, its logical database, and the pattern');
    }
    const recent = outcome.recent;
    const conclusion = concludeRun(
      {
        kind: 'audit',
        version: VERSION,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        target: { redis: cache.target },
        summary,
        families: familyCounters,
        minConsistency: Object.fromEntries(families.flatMap((f) => (f.minConsistency === undefined ? [] : [[f.name, f.minConsistency]]))),
        incomplete: outcome.incomplete,
        ...(outcome.abortReason === undefined ? {} : { abortReason: outcome.abortReason }),
        // Rules warnings first: a field no cached value holds explains a systematic difference on it.
        warnings: [...rulesWarnings, ...outcome.warnings, ...systematic.tally.warnings()],
        sourceFailures: outcome.sourceFailures,
        ...(request.audit.shard === undefined ? {} : { shard: shardMeta(request.audit.shard, request.config.families) }),
        ...(outcome.replicaLagMs === undefined ? {} : { replicaLagMs: outcome.replicaLagMs }),
        // The Cluster scan's nodes and slots (when on a Cluster), then the keys no family covers.
        coverage: { ...(coverage ?? {}), ...outcome.keyspace },
        ...(recent === undefined
          ? {}
          : {
              recent: {
                withinMs: recent.withinMs,
                summary: recent.total.counters(),
                families: [...recent.families].map(([name, tally]) => ({ name, ...tally.counters() })),
              },
            }),
      },
      request.gate,
      known?.matches(),
    );
    await sinks.end(conclusion.run);
    await output.commit();
    for (const notice of conclusion.notices) process.stderr.write(`shadowcheck: ${notice}\n`);
    return settleExitCode(conclusion, {
      ...(request.signal?.aborted === true ? { interruptedBy: request.signal.reason } : {}),
      requiredPushFailed: metrics?.requiredPushFailed === true,
    });
  } finally {
    // After a commit there is nothing left to drop; after a failure, the temporary file goes.
    await output.discard();
  }
}

/** `--until-confident` needs a threshold for every family it samples, checked before connecting. */
function checkUntilConfident(request: AuditRequest, families: readonly FamilyRule[]): void {
  const until = request.audit.untilConfident;
  if (until === undefined) return;
  if (request.audit.sample === 'all') throw new UsageError('--until-confident stops a sample early: it cannot be combined with --all');
  const without = families.filter((f) => f.minConsistency === undefined);
  if (until.minConsistency === undefined && without.length > 0) {
    throw new UsageError(`--until-confident: family ${without.map((f) => `"${f.name}"`).join(', ')} has no minConsistency to be confident about`, {
      hint: 'give the family a minConsistency in the rules file, or pass --min-consistency',
    });
  }
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
