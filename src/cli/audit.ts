import { Option, type Command } from 'commander';
import { performAudit } from '../audit/session.js';
import { loadRulesFile } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { FailOn } from '../core/gate.js';
import { parseShard, type Shard } from '../core/shard.js';
import type { ReporterName } from '../report/index.js';
import { MetricsRecorder, parseGroupingLabels } from '../metrics/index.js';
import { createLogger, LOG_LEVELS } from './log.js';
import { duration, integer, useColor } from './parse.js';
import {
  baselineOption,
  failOnOption,
  formatOption,
  gateOptionsFrom,
  maxDivergentOption,
  maxErrorRatioOption,
  minConsistencyOption,
  outputOption,
} from './gate-flags.js';
import { createProgress } from './progress.js';
import { addConnectionFlags, connectionFrom, type ConnectionFlags } from './connection-flags.js';
import { beginOnStart, withInterrupt } from './interrupt.js';
import { describeCommand } from './commands.js';
import { SAMPLING_MODES, type SamplingMode } from '../core/sampling-plan.js';

interface AuditFlags extends ConnectionFlags {
  rules: string;
  family: string[];
  sample: number;
  all?: boolean;
  seed?: number;
  rate?: number;
  concurrency: number;
  batch: number;
  confirmDelay: number;
  maxValueBytes: number;
  format: ReporterName;
  output?: string;
  failOn: FailOn;
  maxDivergent: number;
  minConsistency?: number;
  maxErrorRatio: number;
  baseline?: string;
  recent?: number;
  pushgateway?: string;
  job: string;
  label: string[];
  requirePush?: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  targetQueryMs: number;
  shard?: Shard;
  maxReplicaLag?: number;
  sampling: SamplingMode;
  untilConfident?: boolean;
}

export function registerAuditCommand(program: Command): void {
  addConnectionFlags(
    program
      .command('audit')
      .description(describeCommand('audit'))
      .requiredOption('--rules <file>', 'rules file (YAML) (required)'),
  )
    .option('--family <name>', 'audit only this family (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--sample <n>', 'judge a uniform sample of N matching keys per family', integer('--sample'), 1000)
    .addOption(new Option('--all', 'judge every matching key').conflicts('sample'))
    .addOption(
      new Option('--sampling <method>', 'how each family\'s sample is drawn: a full SCAN, RANDOMKEY, random source rows, or auto (per family, the cheapest)')
        .choices(SAMPLING_MODES)
        .default('auto'),
    )
    .option('--until-confident', 'stop sampling a family once its 95% bounds decide its minConsistency (or --min-consistency); --sample stays the limit')
    .option('--seed <n>', 'seed for the sample, to pick the same keys again (RANDOMKEY cannot be seeded)', integer('--seed'))
    .option('--rate <keys-per-s>', 'cap keys per second across the run, SCAN included', integer('--rate'))
    .option('--concurrency <n>', 'batches in flight at once', integer('--concurrency'), 4)
    .option('--batch <n>', 'keys per batch at most (one Redis read, one source query)', integer('--batch'), 500)
    .option('--max-replica-lag <duration>', 'pause while a replica read (Redis or a source) is further behind than this', duration('--max-replica-lag'))
    .option('--target-query-ms <ms>', 'shrink batches so that one source query takes about this long', integer('--target-query-ms'), 100)
    .option('--confirm-delay <ms>', 're-read divergent keys after this delay; 0 disables', integer('--confirm-delay'), 250)
    .option('--max-value-bytes <n>', 'skip values larger than this without fetching them', integer('--max-value-bytes'), 1024 * 1024)
    .option('--shard <i/N>', 'judge only shard i of N (0 <= i < N, by Redis Cluster hash slot); combine the reports with `shadowcheck merge`', parseShard)
    .addOption(formatOption())
    .addOption(outputOption())
    .addOption(failOnOption())
    .addOption(maxDivergentOption())
    .addOption(minConsistencyOption())
    .addOption(maxErrorRatioOption())
    .addOption(baselineOption())
    .option('--recent <duration>', 'also judge the keys of rows changed within this window (families with table and updatedAt)', duration('--recent'))
    .option('--pushgateway <url>', 'push the run\'s metrics to this Prometheus Pushgateway')
    .option('--job <name>', 'the job grouping label of the pushed metrics', 'shadowcheck')
    .option('--label <k=v>', 'an extra grouping label for the pushed metrics (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .addOption(new Option('--log-level <level>', 'log level of the JSON logs on stderr').choices(LOG_LEVELS).default('warn'))
    .option('--require-push', 'exit 3 when the metrics push fails (by default it is reported and the exit code kept)')
    .action(async (flags: AuditFlags) => {
      const config = await loadRulesFile(flags.rules);
      const connection = connectionFrom(flags);
      if (flags.pushgateway === undefined && flags.label.length > 0) {
        throw new UsageError('--label sets grouping labels of the pushed metrics: it needs --pushgateway');
      }
      const metrics =
        flags.pushgateway === undefined
          ? undefined
          : {
              recorder: new MetricsRecorder({ url: flags.pushgateway, job: flags.job, labels: parseGroupingLabels(flags.label), timeoutMs: flags.timeout }),
              required: flags.requirePush === true,
            };
      const code = await withInterrupt((signal, phase) =>
        performAudit({
          config,
          redisUrl: connection.redisUrl,
          readFrom: connection.readFrom,
          tls: connection.tls,
          familyNames: flags.family,
          audit: {
            sample: flags.all === true ? 'all' : flags.sample,
            seed: flags.seed ?? randomSeed(),
            batch: flags.batch,
            scanCount: Math.max(100, Math.min(flags.batch, 1000)),
            concurrency: flags.concurrency,
            confirmDelayMs: flags.confirmDelay,
            maxValueBytes: flags.maxValueBytes,
            ...(flags.rate === undefined ? {} : { rate: flags.rate }),
            ...(flags.recent === undefined ? {} : { recentMs: flags.recent }),
            targetQueryMs: flags.targetQueryMs,
            ...(flags.maxReplicaLag === undefined ? {} : { maxReplicaLagMs: flags.maxReplicaLag }),
            ...(flags.shard === undefined ? {} : { shard: flags.shard }),
            sampling: flags.sampling,
            ...(flags.untilConfident === true ? { untilConfident: flags.minConsistency === undefined ? {} : { minConsistency: flags.minConsistency } } : {}),
          },
          timeoutMs: connection.timeoutMs,
          format: flags.format,
          ...(flags.output === undefined ? {} : { outputFile: flags.output }),
          gate: gateOptionsFrom(flags),
          ...(flags.baseline === undefined ? {} : { baselineFile: flags.baseline }),
          ...(metrics === undefined ? {} : { metrics }),
          log: createLogger(flags.logLevel),
          // performAudit starts the progress once connected: from then on a signal yields a partial report.
          progress: beginOnStart(createProgress(), phase),
          color: useColor(process.stdout),
          signal,
        }),
      );
      process.exitCode = code;
    });
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
