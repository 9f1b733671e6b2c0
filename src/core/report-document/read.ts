import { UsageError } from '../../errors.js';
import type { SourceFailure } from '../gate.js';
import type { ShardMeta } from '../shard.js';
import type { KeyspaceCoverage } from '../run-summary.js';
import type { Counters, FamilyCounters } from '../stats.js';
import { REASONS_BY_VERDICT, VERDICTS, type Verdict } from '../verdict.js';
import type { RunWarning } from '../warning.js';
import type { ReportDocument } from './build.js';
import type { ReportFinding } from './finding.js';

/**
 * Reading back the document build.ts writes: the one parser and validator of it, used by `merge`
 * (every field it needs) and by `--baseline` (its findings). Top-level fields are named through
 * ReportDocument's keys, so a field the writer renames no longer compiles here. Pure: the callers
 * read the files (report/report-file.ts).
 */

export interface Population {
  summary: Counters;
  families: FamilyCounters[];
}

/** What merge reads from one `--format json` report. */
export interface ShardReport extends Population {
  /** Where it came from, for messages. */
  file: string;
  version: string;
  startedAt: string;
  durationMs: number;
  target: Record<string, string>;
  /** Absent on an unsharded run's report, which covers the whole keyspace (shard 0 of 1). */
  shard?: ShardMeta;
  recent?: Population & { withinMs: number };
  findings: ReportFinding[];
  findingsOmitted: number;
  incomplete: boolean;
  abortReason?: string;
  /** The report's `warnings` (rules problems, systematic differences); empty when it had none. */
  runWarnings: RunWarning[];
  /** The report's `sourceFailures`; empty when it had none (or was written before they were reported). */
  sourceFailures: SourceFailure[];
  /** The keys no family covers, when the report states them (written after issue 16). */
  keyspace?: KeyspaceCoverage;
}

/**
 * Checks that `json` is a shadowcheck JSON report and takes what merge needs from it. Throws a
 * UsageError naming the file and the first thing that is not as expected.
 */
export function readShardReport(json: unknown, file: string): ShardReport {
  const fail = (what: string, hint?: string): never => {
    throw new UsageError(`${file}: ${what}`, { hint: hint ?? 'merge takes reports written by `shadowcheck audit --shard i/N --format json`' });
  };
  if (!isObject(json) || json['tool'] !== 'shadowcheck') return fail('not a shadowcheck JSON report');
  const field = (name: keyof ReportDocument): unknown => json[name];
  // A required field that is absent is named as missing, not as of the wrong type.
  const present = (name: string, value: unknown): unknown => (value === undefined ? fail(`"${name}" is missing`) : value);
  const string = (name: string, value: unknown): string => {
    present(name, value);
    return typeof value === 'string' ? value : fail(`"${name}" is not a string`);
  };
  const number = (name: string, value: unknown): number => {
    present(name, value);
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fail(`"${name}" is not a number >= 0`);
  };

  const version = string('version', field('version'));
  const startedAt = string('startedAt', field('startedAt'));
  if (Number.isNaN(Date.parse(startedAt))) fail(`"startedAt" is not a date: ${startedAt}`);
  const durationMs = number('durationMs', field('durationMs'));
  const targetJson = present('target', field('target'));
  if (!isObject(targetJson)) return fail('"target" is not an object');
  const target: Record<string, string> = {};
  for (const [k, v] of Object.entries(targetJson)) target[k] = string(`target.${k}`, v);

  const population = readPopulation(json, '', fail);
  const report: ShardReport = {
    file,
    version,
    startedAt,
    durationMs,
    target,
    ...population,
    findings: readFindings(present('findings', field('findings')), fail),
    findingsOmitted: field('findingsOmitted') === undefined ? 0 : number('findingsOmitted', field('findingsOmitted')),
    incomplete: field('incomplete') === true,
    runWarnings: readWarnings(field('warnings'), fail),
    sourceFailures: readSourceFailures(field('sourceFailures'), new Set(population.families.map((f) => f.name)), fail),
  };
  const keyspace = readKeyspace(field('coverage'));
  if (keyspace !== undefined) report.keyspace = keyspace;
  if (field('abortReason') !== undefined) report.abortReason = string('abortReason', field('abortReason'));
  if (field('shard') !== undefined) report.shard = readShardMeta(field('shard'), fail);
  if (field('recent') !== undefined) {
    const recent = field('recent');
    if (!isObject(recent)) return fail('"recent" is not an object');
    report.recent = { withinMs: number('recent.withinMs', recent['withinMs']), ...readPopulation(recent, 'recent.', fail) };
  }
  return report;
}

function readPopulation(json: Record<string, unknown>, prefix: string, fail: (what: string) => never): Population {
  const summary = json['summary'];
  const families = json['families'];
  if (summary === undefined) return fail(`"${prefix}summary" is missing`);
  if (!isObject(summary)) return fail(`"${prefix}summary" is not an object`);
  if (families === undefined) return fail(`"${prefix}families" is missing`);
  if (!Array.isArray(families) || !families.every((f) => isObject(f) && typeof f['name'] === 'string')) {
    return fail(`"${prefix}families" is not a list of families with names`);
  }
  const names = families.map((f: Record<string, unknown>) => f['name'] as string);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) fail(`"${prefix}families" lists family "${twice}" twice`);
  // Checked field by field when the tally is rebuilt (Tally.fromCounters).
  return { summary: summary as unknown as Counters, families: families as unknown as FamilyCounters[] };
}

function readShardMeta(json: unknown, fail: (what: string) => never): ShardMeta {
  if (!isObject(json)) return fail('"shard" is not an object');
  const { index, count, rulesDigest, minConsistency } = json;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return fail('"shard.count" is not a whole number >= 1');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= count) {
    return fail(`"shard.index" is not a whole number from 0 to ${count - 1}`);
  }
  if (typeof rulesDigest !== 'string') return fail('"shard.rulesDigest" is not a string');
  if (!isObject(minConsistency) || !Object.values(minConsistency).every((v) => typeof v === 'number' && v >= 0 && v <= 1)) {
    return fail('"shard.minConsistency" is not an object of ratios');
  }
  return { index, count, rulesDigest, minConsistency: { ...(minConsistency as Record<string, number>) } };
}

function readFindings(json: unknown, fail: (what: string) => never): ReportFinding[] {
  if (!Array.isArray(json)) return fail('"findings" is not a list');
  return json.map((f: unknown, i) => {
    const bad = (what: string): never => fail(`findings[${i}] ${what}`);
    if (!isObject(f)) return bad('is not an object');
    if (typeof f['key'] !== 'string' || typeof f['family'] !== 'string') return bad('has no key or family');
    const verdict = f['verdict'];
    if (!(VERDICTS as readonly unknown[]).includes(verdict)) return bad(`has an unknown verdict ${JSON.stringify(verdict)}`);
    const reasons = REASONS_BY_VERDICT[verdict as Verdict] as readonly unknown[];
    if (f['reason'] !== undefined && !reasons.includes(f['reason'])) return bad(`has reason ${JSON.stringify(f['reason'])}, not one of ${verdict as string}`);
    for (const field of ['pttlMs', 'staleAgeMs', 'diffOmitted']) {
      if (f[field] !== undefined && typeof f[field] !== 'number') return bad(`has a ${field} that is not a number`);
    }
    if (f['population'] !== undefined && f['population'] !== 'recent') return bad('has an unknown population');
    if (f['detail'] !== undefined && typeof f['detail'] !== 'string') return bad('has a detail that is not a string');
    const diff = f['diff'];
    if (!Array.isArray(diff) || !diff.every((d) => isObject(d) && typeof d['path'] === 'string')) return bad('has no diff list');
    if (diff.some((d) => (d as Record<string, unknown>)['change'] !== undefined && typeof (d as Record<string, unknown>)['change'] !== 'string')) return bad('has a diff change that is not a string');
    return f as unknown as ReportFinding;
  });
}

/** A report's `sourceFailures`; absent (a report of an earlier version, or none failed) is none. */
function readSourceFailures(json: unknown, families: ReadonlySet<string>, fail: (what: string) => never): SourceFailure[] {
  if (json === undefined) return [];
  if (!Array.isArray(json)) return fail('"sourceFailures" is not a list');
  const whole = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
  return json.map((f: unknown, i): SourceFailure => {
    if (!isObject(f) || typeof f['family'] !== 'string' || typeof f['message'] !== 'string' || !whole(f['batches'], 1) || !whole(f['keys'], 0)) {
      return fail(`sourceFailures[${i}] is not a source failure (family, batches >= 1, keys >= 0, message)`);
    }
    if (!families.has(f['family'])) return fail(`sourceFailures[${i}] names family "${f['family']}", which the report did not audit`);
    return { family: f['family'], batches: f['batches'], keys: f['keys'], message: f['message'] };
  });
}

function readWarnings(json: unknown, fail: (what: string) => never): RunWarning[] {
  if (json === undefined) return [];
  if (!Array.isArray(json)) return fail('"warnings" is not a list');
  return json.map((w: unknown, i): RunWarning => {
    if (!isObject(w) || (w['kind'] !== 'rules' && w['kind'] !== 'systematic') || typeof w['family'] !== 'string' || typeof w['message'] !== 'string') {
      return fail(`warnings[${i}] is not a warning (kind "rules" or "systematic", family, message)`);
    }
    if (w['field'] !== undefined && typeof w['field'] !== 'string') return fail(`warnings[${i}] has a field that is not a string`);
    return { kind: w['kind'], family: w['family'], ...(typeof w['field'] === 'string' ? { field: w['field'] } : {}), message: w['message'] };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A report's findings as a --baseline reads them: only `tool` and the `findings` list are required
 * (a baseline may come from an older version, or a shard); undefined when `json` is not a report.
 */
export function baselineFindingsOf(json: unknown): { key?: unknown; verdict?: unknown; reason?: unknown }[] | undefined {
  if (!isObject(json) || json['tool'] !== 'shadowcheck' || !Array.isArray(json['findings'])) return undefined;
  return json['findings'].filter(isObject);
}

/** `coverage`'s keyspace figures, when present and well formed; anything else is left out. */
function readKeyspace(json: unknown): KeyspaceCoverage | undefined {
  if (!isObject(json) || typeof json['unmatched'] !== 'number' || typeof json['exact'] !== 'boolean') return undefined;
  const prefixes = Array.isArray(json['uncoveredPrefixes']) ? json['uncoveredPrefixes'] : [];
  return {
    unmatched: json['unmatched'],
    exact: json['exact'],
    basis: typeof json['basis'] === 'string' ? json['basis'] : '',
    ...(typeof json['scope'] === 'string' ? { scope: json['scope'] } : {}),
    uncoveredPrefixes: prefixes.flatMap((p: unknown) =>
      isObject(p) && typeof p['prefix'] === 'string' && typeof p['keys'] === 'number' ? [{ prefix: p['prefix'], keys: p['keys'] }] : [],
    ),
  };
}
