import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Baseline } from '../audit/baseline.js';
import { errorRatio, evaluateGate, sourceFailureMessage } from '../core/gate.js';
import { mergedGateInput, mergeReports, readShardReport, type MergedReport, type ShardReport } from '../core/merge.js';
import type { Finding } from '../core/verdict.js';
import { ExitCode, ShadowcheckError, UsageError } from '../errors.js';
import { createReporter } from '../report/index.js';
import type { RunSummary } from '../report/types.js';
import { openOutput, OutputError, planOutput, type OutputPlan } from '../util/output-file.js';
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

type MergeFlags = GateFlags & ReportFlags;

/**
 * `shadowcheck merge REPORT.json...`: the JSON reports of `audit --shard i/N` (one per shard) as
 * one report, gated with the same flags as `audit`, in any format, with audit's exit codes.
 */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('merge the JSON reports of a sharded audit (--shard i/N) into one report, and gate it')
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
  const output = flags.output === undefined ? undefined : await planOutput(flags.output);
  const reports: ShardReport[] = [];
  for (const file of files) reports.push(readShardReport(await readJson(file), file));
  const merged = mergeReports(reports, VERSION);
  for (const warning of merged.warnings) process.stderr.write(`shadowcheck: ${warning}\n`);

  const baseline = flags.baseline === undefined ? undefined : await Baseline.load(flags.baseline);
  const findings = merged.findings.map(
    // The decision step is not part of the report contract, so it is unknown here (0); no reporter shows it.
    (f): Finding => ({ ...f, step: 0 }),
  );
  let knownDivergent = 0;
  let knownRecentDivergent = 0;
  for (const f of findings) {
    if (f.verdict !== 'divergent' || baseline?.has(f.key, f.reason) !== true) continue;
    if (f.population === 'recent') knownRecentDivergent++;
    else knownDivergent++;
  }
  if (baseline !== undefined && merged.findingsOmitted > 0) {
    process.stderr.write('shadowcheck: --baseline: the shards left findings out of their reports; those are counted as new divergences\n');
  }
  const gateOptions = gateOptionsFrom(flags);
  const gate = evaluateGate(
    mergedGateInput(merged, baseline === undefined ? undefined : { file: baseline.file, knownDivergent, knownRecentDivergent }),
    gateOptions,
  );
  const run = runSummary(merged, { passed: gate.passed, failures: gate.failures, ...(gate.baseline === undefined ? {} : { baseline: gate.baseline }) });

  await writeReport(output, async (out) => {
    const reporter = createReporter(flags.format, { out, color: flags.output === undefined && useColor(process.stdout), maxFindings: 100_000 });
    for (const finding of findings) await reporter.onFinding?.(finding);
    await reporter.onEnd?.(run);
  });

  if (merged.incomplete) {
    process.stderr.write(`shadowcheck: merged report incomplete: ${merged.abortReason ?? 'a shard stopped early'}\n`);
    return ExitCode.connection;
  }
  if (gate.tooManyErrors) {
    // Either reason, or both: more errors than the ratio allows, or whole batches the gate counted.
    if (errorRatio(merged.summary) > gateOptions.maxErrorRatio) {
      process.stderr.write(
        `shadowcheck: ${merged.summary.error} of ${merged.summary.sampled} keys could not be judged ` +
          `(${(errorRatio(merged.summary) * 100).toFixed(1)}% > --max-error-ratio ${gateOptions.maxErrorRatio * 100}%)\n`,
      );
    }
    const failed = new Set(gate.failures);
    for (const message of merged.sourceFailures.map(sourceFailureMessage)) {
      if (failed.has(message)) process.stderr.write(`shadowcheck: ${message}\n`);
    }
    return ExitCode.tooManyErrors;
  }
  return gate.passed ? ExitCode.ok : ExitCode.gateFailed;
}

function runSummary(merged: MergedReport, gate: RunSummary['gate']): RunSummary {
  const run: RunSummary = {
    version: merged.version,
    startedAt: merged.startedAt,
    durationMs: merged.durationMs,
    target: merged.target,
    summary: merged.summary,
    families: merged.families,
    gate,
    incomplete: merged.incomplete,
    ...(merged.runWarnings.length === 0 ? {} : { warnings: merged.runWarnings }),
    ...(merged.sourceFailures.length === 0 ? {} : { sourceFailures: merged.sourceFailures }),
  };
  if (merged.recent !== undefined) run.recent = merged.recent;
  if (merged.abortReason !== undefined) run.abortReason = merged.abortReason;
  return run;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message})`, {
      hint: 'merge takes reports written by `shadowcheck audit --shard i/N --format json`',
      cause: error,
    });
  }
}

/** Writes the report to stdout, or through the one output writer (atomic for a regular file). */
async function writeReport(output: OutputPlan | undefined, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  if (output === undefined) {
    await write(process.stdout);
    return;
  }
  const sink = await openOutput(output);
  try {
    await write(sink.out);
    await sink.commit();
  } catch (error) {
    throw error instanceof ShadowcheckError ? error : new OutputError(`cannot write the report to ${output.flag} "${output.file}": ${(error as Error).message}`, { cause: error });
  } finally {
    await sink.discard();
  }
}
