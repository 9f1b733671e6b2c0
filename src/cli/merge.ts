import type { Command } from 'commander';
import { Baseline } from '../audit/baseline.js';
import { baselineSink, reporterSink, RunSinks } from '../audit/run-sinks.js';
import { concludeRun, settleExitCode } from '../core/conclude.js';
import { mergedOutcome, mergeReports } from '../core/merge.js';
import { readShardReport, type ShardReport } from '../core/report-document/index.js';
import type { Finding } from '../core/verdict.js';
import { createReporter } from '../report/index.js';
import { readReportFile } from '../report/report-file.js';
import { openReportOutput } from '../report/report-output.js';
import { planOutput } from '../util/output-file.js';
import { VERSION } from '../version.js';
import {
  baselineOption,
  failOnOption,
  formatOption,
  gateOptionsFrom,
  maxDivergentOption,
  maxErrorRatioOption,
  minConsistencyOption,
  outputOption,
  type GateFlags,
  type ReportFlags,
} from './gate-flags.js';
import { useColor } from './parse.js';
import { describeCommand } from './commands.js';

type MergeFlags = GateFlags & ReportFlags;

const MERGE_HINT = 'merge takes reports written by `shadowcheck audit --shard i/N --format json`';

/**
 * `shadowcheck merge REPORT.json...`: the JSON reports of `audit --shard i/N` (one per shard) as
 * one report, gated with the same flags as `audit`, in any format, with audit's exit codes.
 */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description(describeCommand('merge'))
    .argument('<report...>', 'JSON reports written by `shadowcheck audit --shard i/N --format json`')
    .addOption(formatOption())
    .addOption(outputOption())
    .addOption(failOnOption())
    .addOption(maxDivergentOption())
    .addOption(minConsistencyOption())
    .addOption(maxErrorRatioOption())
    .addOption(baselineOption())
    .action(async (files: string[], flags: MergeFlags) => {
      process.exitCode = await performMerge(files, flags);
    });
}

export async function performMerge(files: readonly string[], flags: MergeFlags): Promise<number> {
  const outputPlan = flags.output === undefined ? undefined : await planOutput(flags.output);
  const reports: ShardReport[] = [];
  for (const file of files) reports.push(readShardReport(await readReportFile(file, file, MERGE_HINT), file));
  const merged = mergeReports(reports, VERSION);
  for (const warning of merged.warnings) process.stderr.write(`shadowcheck: ${warning}\n`);

  const baseline = flags.baseline === undefined ? undefined : await Baseline.load(flags.baseline);
  if (baseline !== undefined && merged.findingsOmitted > 0) {
    process.stderr.write('shadowcheck: --baseline: the shards left findings out of their reports; those are counted as new divergences\n');
  }
  const output = await openReportOutput(outputPlan);
  try {
    const reporter = createReporter(flags.format, { out: output.out, color: flags.output === undefined && useColor(process.stdout), maxFindings: 100_000 });
    const known = baseline === undefined ? undefined : baselineSink(baseline);
    const sinks = new RunSinks([reporterSink(reporter, (error) => output.wrapError(error)), ...(known === undefined ? [] : [known])]);
    for (const f of merged.findings) {
      // The decision step is not part of the report contract, so it is unknown here (0); no reporter shows it.
      await sinks.finding({ ...f, step: 0 } satisfies Finding);
    }
    const conclusion = concludeRun(mergedOutcome(merged), gateOptionsFrom(flags), known?.matches());
    await sinks.end(conclusion.run);
    await output.commit();
    for (const notice of conclusion.notices) process.stderr.write(`shadowcheck: ${notice}\n`);
    return settleExitCode(conclusion);
  } finally {
    await output.discard();
  }
}
