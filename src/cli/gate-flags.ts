import { Option } from 'commander';
import type { FailOn, GateOptions } from '../core/gate.js';
import { REPORTERS, type ReporterName } from '../report/index.js';
import { integer, ratio } from './parse.js';

/**
 * The flags `audit` and `merge` share: how the report is written and what fails the gate. One
 * definition, so a merged sharded run is gated exactly as an unsharded audit would have been.
 */
export interface ReportFlags {
  format: ReporterName;
  output?: string;
}

export interface GateFlags {
  failOn: FailOn;
  maxDivergent: number;
  minConsistency?: number;
  maxErrorRatio: number;
  baseline?: string;
}

export function formatOption(): Option {
  return new Option('--format <format>', 'report format').choices(Object.keys(REPORTERS)).default('table');
}

export function outputOption(): Option {
  return new Option('--output <file>', 'write the report to this file instead of stdout');
}

export function failOnOption(): Option {
  return new Option('--fail-on <what>', 'what fails the gate').choices(['divergent', 'error', 'none']).default('divergent');
}

export function maxDivergentOption(): Option {
  return new Option('--max-divergent <n>', 'divergent keys tolerated by the gate').argParser(integer('--max-divergent')).default(0);
}

export function minConsistencyOption(): Option {
  return new Option('--min-consistency <ratio>', 'gate on (match + within-ttl) / judged: a ratio 0..1 or a percentage like 99.9%').argParser(ratio('--min-consistency'));
}

export function maxErrorRatioOption(): Option {
  return new Option('--max-error-ratio <ratio>', 'exit 4 when more than this share of keys cannot be judged')
    .argParser(ratio('--max-error-ratio'))
    .default(0.05);
}

export function baselineOption(): Option {
  return new Option('--baseline <report.json>', 'a previous JSON report: the gate fails only on divergences it does not list');
}

/** The gate thresholds the flags ask for (`--baseline` is read separately: it is a file). */
export function gateOptionsFrom(flags: GateFlags): GateOptions {
  return {
    failOn: flags.failOn,
    maxDivergent: flags.maxDivergent,
    maxErrorRatio: flags.maxErrorRatio,
    ...(flags.minConsistency === undefined ? {} : { minConsistency: flags.minConsistency }),
  };
}
